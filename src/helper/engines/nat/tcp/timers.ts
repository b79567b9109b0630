/**
 * A connection's timers as deadlines (ms on the caller's clock), never as timer objects: the
 * caller owns the one timer and calls `timer(now)` once the earliest deadline has passed.
 */
import type { ConnectionLimits } from "./limits.js";
import type { TcpState } from "./state.js";

/** How long the flow may stay silent in this state before it is reset. */
export function idleLimit(state: TcpState, limits: ConnectionLimits): number {
  return state.name === "ESTABLISHED" ? limits.idleTimeoutMs : limits.halfClosedIdleTimeoutMs;
}

/** The earlier of two deadlines, where 0 means none. */
export function earliest(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/** The next deadline: TIME-WAIT's end, the retransmission (or persist) timer, the idle limit. */
export function nextDeadline(
  state: TcpState,
  rtoAt: number,
  lastActivity: number,
  limits: ConnectionLimits,
): number {
  switch (state.name) {
    case "CLOSED":
      return 0;
    case "TIME-WAIT":
      return earliest(state.until, rtoAt);
    case "DIALING":
      return rtoAt;
    default:
      return earliest(rtoAt, lastActivity + idleLimit(state, limits));
  }
}
