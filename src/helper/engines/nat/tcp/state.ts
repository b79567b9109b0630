/**
 * A connection's state (RFC 9293 §3.3.2), as a discriminated union: only TIME-WAIT's `until` and
 * CLOSED's `reason` carry meaning. DIALING is ours: the SYN is held while the flow's peer gets
 * ready (the real connect), before it is answered.
 *
 * Every state has the same three fields, in the same order, so that V8 sees one object shape:
 * with three shapes, the hot path's reads of `name` go polymorphic once a flow has reached
 * TIME-WAIT or CLOSED, which slows every flow after it.
 */
type Plain<Name extends string> = { readonly name: Name; readonly until: 0; readonly reason: "" };

export type TcpState =
  | Plain<"DIALING">
  | Plain<"SYN-RECEIVED">
  | Plain<"ESTABLISHED">
  | Plain<"FIN-WAIT-1">
  | Plain<"FIN-WAIT-2">
  | Plain<"CLOSE-WAIT">
  | Plain<"CLOSING">
  | Plain<"LAST-ACK">
  | { readonly name: "TIME-WAIT"; readonly until: number; readonly reason: "" }
  | { readonly name: "CLOSED"; readonly until: 0; readonly reason: string };

export type TcpStateName = TcpState["name"];

/** States without data: one shared object each, so a transition allocates nothing. */
export const DIALING: TcpState = { name: "DIALING", until: 0, reason: "" };
export const SYN_RECEIVED: TcpState = { name: "SYN-RECEIVED", until: 0, reason: "" };
export const ESTABLISHED: TcpState = { name: "ESTABLISHED", until: 0, reason: "" };
export const FIN_WAIT_1: TcpState = { name: "FIN-WAIT-1", until: 0, reason: "" };
export const FIN_WAIT_2: TcpState = { name: "FIN-WAIT-2", until: 0, reason: "" };
export const CLOSE_WAIT: TcpState = { name: "CLOSE-WAIT", until: 0, reason: "" };
export const CLOSING: TcpState = { name: "CLOSING", until: 0, reason: "" };
export const LAST_ACK: TcpState = { name: "LAST-ACK", until: 0, reason: "" };

export function timeWait(until: number): TcpState {
  return { name: "TIME-WAIT", until, reason: "" };
}

export function closed(reason: string): TcpState {
  return { name: "CLOSED", until: 0, reason };
}
