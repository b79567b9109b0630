/**
 * The far side of a forwarded TCP flow, whatever it is: a real socket to the destination
 * (socket-peer.ts), or a handler in this process (the DNS engine for the stub's port 53). The
 * flow joins it to the connection with the remote: bytes both ways, FINs, and backpressure: the
 * window advertised to the remote shrinks by what the peer still holds, and the peer stops
 * producing while the remote's window is full.
 */
import type { PeerRelease } from "./connection.js";

export interface FlowPeer {
  /** In-order bytes from the remote; the peer owns `data` from here. */
  write(data: Buffer): void;
  /** The remote sent its FIN: no more data follows (half-close). */
  end(): void;
  /** Bytes written and not yet passed on. */
  readonly buffered: number;
  /** The remote's window is full: produce no more data until `resume`. */
  pause(): void;
  resume(): void;
  /** The peer's own address for the flow table, once ready (a socket's local address). */
  localName(): string | null;
  /** The flow is over; idempotent. */
  release(how: PeerRelease): void;
}

/** What a peer reports; calls arrive from its own I/O, never during a call into the peer. */
export interface FlowPeerEvents {
  /** Reachable (a connect completed after `connectMs`): the remote's SYN may be answered. */
  ready(connectMs: number): void;
  /** Not reachable (before `ready`), with an errno-style code ("ECONNREFUSED", "ETIMEDOUT"). */
  failed(code: string): void;
  /** Bytes for the remote; the flow owns `chunk` from here. */
  data(chunk: Buffer): void;
  /** The peer has no more data. */
  end(): void;
  /** The peer passed on what it held: the window may reopen. */
  drain(): void;
  /** Failed after `ready`. */
  error(code: string): void;
  /** Went away without `end` or `error`. */
  gone(): void;
}

export interface DialTarget {
  host: string;
  port: number;
}

/** Makes the peer of a new flow. */
export interface PeerOpener {
  /** The real connect's target, when the peer is a socket (remembered by accepting-destinations). */
  readonly dial: DialTarget | undefined;
  /** Starts the peer; its first event comes later, never during this call. */
  open(events: FlowPeerEvents): FlowPeer;
}
