/** What the user can connect to, and the picker's search. */
import { create } from "zustand";
import type { TargetList } from "../../shared/api.js";

interface TargetsState {
  list: TargetList | null;
  loading: boolean;
  /** Why the list could not be fetched at all (a provider's own failure is in list.warnings). */
  error: string | null;
  query: string;
}

export const useTargetsStore = create<TargetsState>(() => ({
  list: null,
  loading: false,
  error: null,
  query: "",
}));

export function setTargetQuery(query: string): void {
  useTargetsStore.setState({ query });
}
