/** The "Can the remote reach …?" form and its last answer; kept while the user switches tabs. */
import { create } from "zustand";
import type { DiagnoseResult } from "../../shared/api.js";

interface DiagnosticsState {
  host: string;
  port: string;
  running: boolean;
  result: DiagnoseResult | null;
  error: string | null;
}

export const useDiagnosticsStore = create<DiagnosticsState>(() => ({
  host: "",
  port: "443",
  running: false,
  result: null,
  error: null,
}));
