/**
 * The sessions as main reports them, the one the window shows, the app's identity, and what main
 * is asking the user.
 */
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

/** `selected` while the user picks a target for a new session beside the running ones. */
export const PICKING = "";

interface SessionStoreState {
  info: AppInfo | null;
  /** The session the window shows (shownSession of the three below). */
  session: SessionView;
  /** The latest session main started (`session:get`), kept after it ended. */
  latest: SessionView;
  /** Every session main holds, oldest first. */
  sessions: SessionView[];
  /** The shown session's target id; null: the latest; PICKING: none, the target picker. */
  selected: string | null;
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
  latest: IDLE_SESSION,
  sessions: [],
  selected: null,
  link: "connecting",
  prompts: [],
  notice: null,
  dismissedError: null,
  log: [],
  capture: IDLE_CAPTURE,
}));

/** The session to show: the selected one while main holds it (or it is the latest), else the latest. */
export function shownSession(
  latest: SessionView,
  sessions: SessionView[],
  selected: string | null,
): SessionView {
  if (selected === PICKING) return IDLE_SESSION;
  if (selected !== null) {
    const held = sessions.find((view) => view.target?.id === selected);
    if (held) return held;
    if (latest.target?.id === selected) return latest;
  }
  return latest;
}

/** Changes what main reported or what the user selected, and what the window shows with it. */
export function updateSessions(
  change: Partial<Pick<SessionStoreState, "latest" | "sessions" | "selected">>,
): void {
  useSessionStore.setState((s) => {
    const next = { latest: s.latest, sessions: s.sessions, selected: s.selected, ...change };
    return { ...next, session: shownSession(next.latest, next.sessions, next.selected) };
  });
}

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
