// For tests only (no shipped module imports it): one session view with every field set, so a test
// names only the fields it is about.
import type { SessionPhase, SessionView } from "./api.js";

/** A session to "devbox" at its first attempt, in `phase`; `change` overrides. */
export function testSessionView(phase: SessionPhase, change: Partial<SessionView> = {}): SessionView {
  return {
    phase,
    target: { id: "devbox", label: "devbox" },
    step: null,
    attempt: 1,
    connectedSince: null,
    retryAt: null,
    message: null,
    advertised: [],
    entrance: null,
    remoteDns: null,
    ...change,
  };
}
