/** The broker's SessionState as the window shows it (SessionView in the shared API). */
import { IDLE_SESSION, type SessionView } from "../../shared/api.js";
import type { SessionState } from "../broker/session.js";

/**
 * The view after `state`; target, advertised prefixes, entrance and the remote's DNS are kept from
 * `previous` (the session reports the latter's end itself).
 */
export function viewOf(state: SessionState, previous: SessionView, now = Date.now()): SessionView {
  const base: SessionView = {
    ...IDLE_SESSION,
    target: previous.target,
    advertised: previous.advertised,
    entrance: previous.entrance,
    remoteDns: previous.remoteDns,
    attempt: previous.attempt,
  };
  switch (state.state) {
    case "connecting":
      return { ...base, phase: "connecting", step: state.step, attempt: state.attempt };
    case "connected":
      return { ...base, phase: "connected", connectedSince: state.since };
    case "reconnecting":
      return {
        ...base,
        phase: "reconnecting",
        attempt: state.attempt,
        retryAt: now + state.retryInMs,
        message: state.reason,
      };
    case "disconnected":
      return { ...base, phase: "disconnected", message: state.reason };
    case "error":
      return { ...base, phase: "error", message: state.message };
  }
}
