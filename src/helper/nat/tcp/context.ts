import type { FlowRow } from "../../../shared/flow-row.js";
import type { FlowTable } from "../flow-table.js";
import type { MemoryBudget } from "../memory-budget.js";
import type { PacketOutput } from "../packet-output.js";
import type { TcpEndpoint } from "./endpoint.js";

export interface TcpLimits {
  /** Most bytes a flow buffers in each direction (receive window and send queue). */
  perFlowBufferBytes: number;
  /** How long a dial may take before the remote is told the host is unreachable. */
  connectTimeoutMs: number;
  /** Idle time after which an established flow is reset. */
  idleTimeoutMs: number;
  /** Idle time for a half-closed flow (one side has sent FIN). */
  halfClosedIdleTimeoutMs: number;
  /** How long TIME-WAIT lasts: long enough to re-acknowledge a retransmitted FIN. */
  timeWaitMs: number;
  /** After this many retransmissions of the same data without progress, the flow is reset. */
  maxRetransmissions: number;
  /**
   * A destination that accepted a connection within this time, after a connect of at least
   * optimisticMinConnectMs, gets the next SYN answered before the real connect completes
   * (accepting-destinations.ts); 0: always connect first.
   */
  optimisticAcceptMs: number;
  optimisticMinConnectMs: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  perFlowBufferBytes: 4 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 2 * 60 * 60 * 1000,
  halfClosedIdleTimeoutMs: 2 * 60 * 1000,
  timeWaitMs: 2_000,
  maxRetransmissions: 12,
  optimisticAcceptMs: 30_000,
  optimisticMinConnectMs: 1,
};

/** How a real connect ended: "abandoned" when the flow went away before it could tell. */
export type DialOutcome = "connected" | "failed" | "abandoned";

/** What an endpoint needs from the forwarder that owns it. */
export interface TcpContext {
  readonly output: PacketOutput;
  readonly table: FlowTable;
  readonly budget: MemoryBudget;
  readonly limits: TcpLimits;
  readonly linkMtu: number;
  /** The endpoint has a timer deadline to be checked by the forwarder's ticker. */
  watchTimers(endpoint: TcpEndpoint): void;
  /** The endpoint's real connect ended (connected, failed or abandoned): a dial slot is free. */
  dialFinished(endpoint: TcpEndpoint, outcome: DialOutcome): void;
  /** The endpoint wants to send but the link is full: call `resumeSending` on drain. */
  waitForDrain(endpoint: TcpEndpoint): void;
  /** The endpoint owes the remote an ACK at the end of the current batch. */
  ackLater(endpoint: TcpEndpoint): void;
  closed(endpoint: TcpEndpoint, row: FlowRow): void;
}
