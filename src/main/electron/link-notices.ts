/**
 * Which session transitions deserve a desktop notification. The user watched the connect they
 * started, and chose the disconnect they asked for: only what happens behind their back is
 * announced, when the link drops and when it comes back (or will not).
 */
import type { SessionView } from "../../shared/api.js";

export interface LinkNotice {
  title: string;
  body: string;
}

export interface LinkNoticeState {
  /** The last phase seen. */
  phase: SessionView["phase"];
  /** The link dropped while connected and has not come back yet. */
  dropped: boolean;
}

export const INITIAL_NOTICE_STATE: LinkNoticeState = { phase: "disconnected", dropped: false };

/** The notice the next session view deserves, if any, and the state to pass with the one after it. */
export function linkNotice(
  state: LinkNoticeState,
  next: SessionView,
): { notice: LinkNotice | null; state: LinkNoticeState } {
  const name = next.target?.label ?? "the remote";
  const moved = next.phase !== state.phase;
  let notice: LinkNotice | null = null;
  let dropped = state.dropped;

  if (moved && next.phase === "reconnecting" && !state.dropped) {
    dropped = true;
    notice = {
      title: `Connection to ${name} lost`,
      body: next.message ?? "Backhaul is reconnecting; the remote's connections will resume.",
    };
  } else if (moved && next.phase === "connected" && state.dropped) {
    dropped = false;
    notice = { title: `Reconnected to ${name}`, body: "The remote reaches your networks again." };
  } else if (moved && next.phase === "error" && (state.dropped || state.phase === "connected")) {
    dropped = false;
    notice = { title: `Disconnected from ${name}`, body: next.message ?? "The session failed." };
  } else if (next.phase === "disconnected" || next.phase === "error") {
    dropped = false;
  }
  return { notice, state: { phase: next.phase, dropped } };
}
