/** The session as main reports it, the app's identity, and what main is asking the user. */
import { create } from "zustand";
import {
  IDLE_CAPTURE,
  IDLE_SESSION,
  type AppInfo,
  type CaptureView,
  type Prompt,
  type SessionView,
} from "../../shared/api.js";
import type { BridgeLinkState } from "../bridge-client.js";

const MAX_LOG_LINES = 200;

interface SessionStoreState {
  info: AppInfo | null;
  session: SessionView;
  /** The bridge to main: "lost" shows a banner until it is back. */
  link: BridgeLinkState;
  /** Questions from main, oldest first; the dialog shows the first. */
  prompts: Prompt[];
  /** The last request that failed (connect, disconnect...), said as main said it. */
  notice: string | null;
  /** The session in error that the user went back to the targets from. */
  dismissedError: SessionView | null;
  log: string[];
  /** "Record packets": the running or last capture. */
  capture: CaptureView;
}

export const useSessionStore = create<SessionStoreState>(() => ({
  info: null,
  session: IDLE_SESSION,
  link: "connecting",
  prompts: [],
  notice: null,
  dismissedError: null,
  log: [],
  capture: IDLE_CAPTURE,
}));

export function addPrompt(prompt: Prompt): void {
  useSessionStore.setState((s) => ({ prompts: [...s.prompts.filter((p) => p.id !== prompt.id), prompt] }));
}

export function removePrompt(id: string): void {
  useSessionStore.setState((s) => ({ prompts: s.prompts.filter((p) => p.id !== id) }));
}

export function appendLog(line: string): void {
  useSessionStore.setState((s) => ({ log: [...s.log.slice(-(MAX_LOG_LINES - 1)), line] }));
}

export function setNotice(notice: string | null): void {
  useSessionStore.setState({ notice });
}
