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

/** The limits a connection itself enforces; the rest belong to the dial and the forwarder. */
export type ConnectionLimits = Pick<
  TcpLimits,
  "idleTimeoutMs" | "halfClosedIdleTimeoutMs" | "timeWaitMs" | "maxRetransmissions"
>;
