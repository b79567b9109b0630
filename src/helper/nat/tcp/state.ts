/**
 * A connection's state (RFC 9293 §3.3.2), as a discriminated union: what only one state has
 * (TIME-WAIT's end, CLOSED's reason) exists only there. DIALING is ours: the SYN is held while
 * the flow's peer gets ready (the real connect), before it is answered.
 */
export type TcpState =
  | { readonly name: "DIALING" }
  | { readonly name: "SYN-RECEIVED" }
  | { readonly name: "ESTABLISHED" }
  | { readonly name: "FIN-WAIT-1" }
  | { readonly name: "FIN-WAIT-2" }
  | { readonly name: "CLOSE-WAIT" }
  | { readonly name: "CLOSING" }
  | { readonly name: "LAST-ACK" }
  | { readonly name: "TIME-WAIT"; readonly until: number }
  | { readonly name: "CLOSED"; readonly reason: string };

export type TcpStateName = TcpState["name"];

/** States without data: one shared object each, so a transition allocates nothing. */
export const DIALING: TcpState = { name: "DIALING" };
export const SYN_RECEIVED: TcpState = { name: "SYN-RECEIVED" };
export const ESTABLISHED: TcpState = { name: "ESTABLISHED" };
export const FIN_WAIT_1: TcpState = { name: "FIN-WAIT-1" };
export const FIN_WAIT_2: TcpState = { name: "FIN-WAIT-2" };
export const CLOSE_WAIT: TcpState = { name: "CLOSE-WAIT" };
export const CLOSING: TcpState = { name: "CLOSING" };
export const LAST_ACK: TcpState = { name: "LAST-ACK" };
