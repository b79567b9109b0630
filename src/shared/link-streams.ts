/**
 * Streams over the link (protocol version 1, capability `Streams`; revision 2 with capability
 * `Reverse` lets either side open them): TCP byte streams carried as frames beside PACKETS, for
 * entrances that have no TUN device (the remote's SOCKS5/HTTP proxy, `--socks` on this computer).
 *
 * Why frames and not packets: a proxy entrance already holds a byte stream (the client's socket on
 * the remote's loopback). Cutting it into TCP segments on the remote only for the exit to
 * reassemble them would run a second TCP inside the SSH channel's TCP (retransmission timers,
 * windows and ACKs for a path that never loses a byte) and cost CPU on both sides. A stream frame
 * carries the bytes once; per-stream credit keeps one slow destination from filling the link.
 * UDP from the proxy (UDP ASSOCIATE) stays datagrams: it goes as IP packets in PACKETS, as the
 * TUN entrance's does.
 *
 * Frames (all integers big endian; `id` is chosen by the side that opens the stream, unique among
 * its open streams). "entrance" below is the side that opened the stream, "exit" the other one.
 *
 * Who opened a stream (revision 2): when both HELLOs carry Capability.Reverse, the top bit of the
 * id (STREAM_ID_REVERSE_BIT) is set on streams the exit-role side (this computer) opens towards
 * the agent's exit, and clear on streams the entrance-role side (the agent) opens. Each side picks
 * ids only in its half, so ids never collide and every frame goes to the right end without state.
 * Without Reverse on both sides, only the entrance-role side opens, as in revision 1, and the bit
 * means nothing.
 *
 *   STREAM_OPEN    id:u32 port:u16 hostType:u8 host     entrance -> exit
 *                  hostType 1: IPv4 (4 bytes), 4: IPv6 (16 bytes), 3: a name (UTF-8, 1..255
 *                  bytes, to the end of the payload), resolved by the exit's DNS engine
 *   STREAM_OPENED  id:u32 status:u8 [family:u8 address]  exit -> entrance
 *                  status is a StreamStatus; on Ok, the address the exit connected to
 *                  (family 4 or 6, then 4 or 16 bytes)
 *   STREAM_DATA    id:u32 bytes                          both ways, 1..STREAM_MAX_DATA bytes
 *   STREAM_CREDIT  id:u32 bytes:u32                      both ways: the sender may send that many
 *                                                        more bytes of STREAM_DATA on this stream
 *   STREAM_END     id:u32                                both ways: no more data from the sender
 *                                                        (half-close, as a FIN)
 *   STREAM_RESET   id:u32 status:u8                      both ways: the stream is gone (as an RST)
 *
 * Each side may send STREAM_INITIAL_CREDIT bytes on a stream before the first STREAM_CREDIT, and
 * grants more as its own side drains them. A receiver may also grant ahead, once the stream is
 * open (after STREAM_OPENED), to have a larger window than the initial credit: what it grants is
 * what it must be ready to hold. Data beyond the credit granted, frames for unknown
 * ids, a second OPEN for an open id, and opens past the exit's flow limit are answered with
 * STREAM_RESET (and counted), never trusted. Two exceptions are counted and never answered: a
 * STREAM_RESET (two sides must not reset each other forever), and a STREAM_CREDIT for an unknown
 * id (one crosses the stream's last STREAM_END in flight whenever the receiver passes on the last
 * bytes). A stream ends when both sides sent STREAM_END, or at
 * the first STREAM_RESET.
 *
 * The exit treats a stream as a TCP flow of the link's entrance address: the same egress policy,
 * limits and NAT table rows (protocol "tcp"); names go through the same DNS engine and appear in
 * the DNS table (in every DNS mode); a name's allowed addresses are tried in turn; an open stream
 * idle past a TCP flow's idle limit is reset with status TimedOut. Each side reports its stream
 * counters in STATS extras named "streams.<counter>" (link/stream-stats.ts).
 */

/** Frame types of the streams extension; FrameType in link-protocol.ts holds 1..8. */
export const StreamFrameType = {
  Open: 16,
  Opened: 17,
  Data: 18,
  Credit: 19,
  End: 20,
  Reset: 21,
} as const;
export type StreamFrameType = (typeof StreamFrameType)[keyof typeof StreamFrameType];

/** Why a stream did not open or ended: the SOCKS5 reply codes (RFC 1928 section 6) where they fit. */
export const StreamStatus = {
  Ok: 0,
  GeneralFailure: 1,
  NotAllowed: 2,
  NetworkUnreachable: 3,
  HostUnreachable: 4,
  Refused: 5,
  TimedOut: 6,
  /** The name does not resolve (SOCKS5 has no code for it: proxies answer 4, host unreachable). */
  NameNotFound: 64,
  /** The peer's flow limit is reached. */
  TooManyStreams: 65,
  /** The peer broke the stream's rules (data past credit, a frame out of order). */
  ProtocolError: 66,
} as const;
export type StreamStatus = (typeof StreamStatus)[keyof typeof StreamStatus];

/** Revision 2: set in the ids of streams the exit-role side opens (see the head comment). */
export const STREAM_ID_REVERSE_BIT = 0x80000000;

export const STREAM_INITIAL_CREDIT = 256 * 1024;
/** Largest STREAM_DATA payload after the id. */
export const STREAM_MAX_DATA = 64 * 1024;

/** Where a stream goes: an address (IPv4 or IPv6 text) or a name, and a port. */
export type StreamTarget =
  { kind: "address"; address: string; port: number } | { kind: "name"; name: string; port: number };

/**
 * One open stream at the entrance: written and read like a socket's two halves. `write` returns
 * false when the credit the exit granted is used up; `drain` follows when it grants more.
 */
export interface LinkStream {
  readonly id: number;
  /** The address the exit connected to. */
  readonly remoteAddress: string;
  write(bytes: Buffer): boolean;
  /** Half-close: the exit's socket sees end of stream; data from the exit still arrives. */
  end(): void;
  /** Abort: the exit resets its connection. */
  reset(): void;
  /** Bytes from the destination, in order; call `consumed(n)` once they are handed on. */
  onData(listener: (bytes: Buffer) => void): void;
  consumed(bytes: number): void;
  onDrain(listener: () => void): void;
  /** The destination ended its side (half-close). */
  onEnd(listener: () => void): void;
  /** The stream is gone: reset by either side (with why) or both sides ended (status Ok). */
  onClose(listener: (status: StreamStatus) => void): void;
}

/** The entrance's side of the streams extension: what a proxy needs from the link. */
export interface StreamOpener {
  /** Resolves with the open stream, or rejects with a StreamOpenError carrying the exit's status. */
  open(target: StreamTarget): Promise<LinkStream>;
}

export class StreamOpenError extends Error {
  constructor(
    readonly status: StreamStatus,
    message: string,
  ) {
    super(message);
    this.name = "StreamOpenError";
  }
}
