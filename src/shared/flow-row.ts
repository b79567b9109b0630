/**
 * A row of the NAT table, as the UI and the CLI see it. "up" is from the remote towards the
 * destination, "down" the way back.
 */
export type FlowProtocol = "tcp" | "udp" | "icmp";

/**
 * Which way a flow goes: "remote-to-local" entered on the remote and leaves from this computer's
 * sockets (the NAT engine of the local helper, the default direction); "local-to-remote" entered
 * on this computer (`--socks`, `--remote-route`) and leaves from the remote's sockets (the agent's
 * exit). For those, "remote" and "up"/"down" read from this computer's side: the program here,
 * and towards the destination on the remote's networks.
 */
export type FlowDirection = "remote-to-local" | "local-to-remote";
export const FLOW_DIRECTIONS: readonly FlowDirection[] = ["remote-to-local", "local-to-remote"];

export interface FlowRow {
  id: number;
  /** Absent in rows of older helpers: "remote-to-local". */
  direction?: FlowDirection;
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
