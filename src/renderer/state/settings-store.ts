/** The settings as main holds them, and the state of the last save. */
import { create } from "zustand";
import type { Settings } from "../../shared/api.js";

interface SettingsState {
  settings: Settings | null;
  saving: boolean;
  /** Main's refusal of the last save, as it worded it. */
  error: string | null;
  /** When the last save succeeded (ms since epoch), for a brief "Saved". */
  savedAt: number | null;
}

export const useSettingsStore = create<SettingsState>(() => ({
  settings: null,
  saving: false,
  error: null,
  savedAt: null,
}));

/** The settings form's prefix boxes: one CIDR per line (commas work too); blank lines do not count. */
export function parsePrefixLines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter(Boolean);
}
