/**
 * The FIN transitions of RFC 9293 §3.6 (figure 5), as tables: which state follows when our FIN
 * leaves, when it is acknowledged, and when the remote's FIN arrives. "TIME-WAIT" and "CLOSED"
 * are returned by name; the connection builds them (they carry a deadline or a reason).
 */
import { CLOSE_WAIT, CLOSING, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, type TcpState } from "./state.js";

export type Teardown = TcpState | "TIME-WAIT" | "CLOSED";

/** Our FIN was sent: half-close from our side. */
export function afterFinSent(state: TcpState): TcpState {
  if (state.name === "ESTABLISHED") return FIN_WAIT_1;
  if (state.name === "CLOSE-WAIT") return LAST_ACK;
  return state;
}

/** The remote acknowledged our FIN. */
export function afterFinAcked(state: TcpState): Teardown {
  if (state.name === "FIN-WAIT-1") return FIN_WAIT_2;
  if (state.name === "CLOSING") return "TIME-WAIT";
  if (state.name === "LAST-ACK") return "CLOSED";
  return state;
}

/** The remote's FIN arrived in order. */
export function afterFinReceived(state: TcpState): Teardown {
  if (state.name === "ESTABLISHED") return CLOSE_WAIT;
  if (state.name === "FIN-WAIT-1") return CLOSING; // simultaneous close
  if (state.name === "FIN-WAIT-2") return "TIME-WAIT";
  return state;
}
