import { create } from "zustand";
import type { AppInfo, SessionState } from "../../shared/api.js";

interface SessionStore {
  state: SessionState;
  info: AppInfo | undefined;
  setInfo(info: AppInfo): void;
}

export const useSessionStore = create<SessionStore>((set) => ({
  state: "disconnected",
  info: undefined,
  setInfo: (info) => set({ info }),
}));
