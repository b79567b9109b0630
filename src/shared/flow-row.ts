/**
 * A row of the NAT table, as the UI and the CLI see it. "up" is from the remote towards the
 * destination, "down" the way back.
 */
export type FlowProtocol = "tcp" | "udp" | "icmp";

export interface FlowRow {
  id: number;
  protocol: FlowProtocol;
  family: 4 | 6;
  /** The remote program's address and port (ICMP: the echo identifier). */
  remote: string;
  destination: string;
  /**
   * The name the remote reached `destination` by: the name a stream was opened with, or the one
   * the most recent DNS answer gave this address for (through CNAMEs). Set when the flow starts;
   * null when no name is known.
   */
  name: string | null;
  /** This computer's socket towards the destination, once there is one. */
  localSocket: string | null;
  /** TCP: an RFC 9293 state name, or DIALING; UDP/ICMP: ACTIVE or CLOSED. */
  state: string;
  upBytes: number;
  downBytes: number;
  upPackets: number;
  downPackets: number;
  /** Milliseconds since the epoch. */
  startedAt: number;
  lastActivityAt: number;
  closedAt: number | null;
  closeReason: string | null;
  /** The session the row belongs to, by its target's name ("devbox"): set by main, not the exit. */
  session?: string;
}

/** What a table publishes: rows added or changed, and rows gone, since the last delta. */
export interface TableDelta<Row> {
  upserts: Row[];
  removals: number[];
}
