/**
 * The credit rule of link streams (src/shared/link-streams.ts), both halves, for both roles: a
 * StreamSender sends a stream's bytes only as far as the peer's credit and the link's room allow,
 * and a StreamReceiver checks the peer against the credit it granted and grants more as its own
 * side passes the bytes on. The entrance's streams and the exit's stream forwarder share them.
 */
import { STREAM_INITIAL_CREDIT, STREAM_MAX_DATA } from "../../../shared/link-streams.js";
import type { LinkRoom } from "../link-room.js";
import type { Link } from "./link.js";

/** Credit the peer sends is summed; more than this is as good as endless. */
const MAX_CREDIT = Number.MAX_SAFE_INTEGER;

/** Senders waiting for room in the link's queue, woken together when there is room again. */
export class StreamRoom {
  private readonly waiting = new Set<() => void>();

  constructor(private readonly room: LinkRoom) {
    room.onRoom(() => this.wake());
  }

  get available(): boolean {
    return this.room.available;
  }

  wait(retry: () => void): void {
    this.waiting.add(retry);
  }

  cancel(retry: () => void): void {
    this.waiting.delete(retry);
  }

  private wake(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const retry of waiting) {
      if (this.room.available) retry();
      else this.waiting.add(retry);
    }
  }
}

export interface StreamSenderEvents {
  /** Everything written went out after a write that returned false. */
  drained(): void;
  /** STREAM_END went out. */
  ended(): void;
  /** The link refused a frame (closed, or its queue is full): the stream cannot go on. */
  failed(): void;
}

/** One stream's outbound half. */
export class StreamSender {
  /** Bytes the peer lets us send now. */
  private credit = STREAM_INITIAL_CREDIT;
  /** Buffers written and not yet sent, kept by reference (the writer gave them up). */
  private queue: Buffer[] = [];
  private queued = 0;
  private endQueued = false;
  private endSent = false;
  private blocked = false;
  private closed = false;
  bytesSent = 0;
  framesSent = 0;

  constructor(
    readonly id: number,
    private readonly link: Link,
    private readonly room: StreamRoom,
    private readonly events: StreamSenderEvents,
  ) {}

  /** Bytes written and still waiting for credit or room. */
  get pendingBytes(): number {
    return this.queued;
  }

  get ended(): boolean {
    return this.endSent;
  }

  /** Queues `bytes` (kept, not copied); true when nothing is left waiting, as a socket's write. */
  write(bytes: Buffer): boolean {
    if (this.closed || this.endQueued) return false;
    if (bytes.length > 0) {
      this.queue.push(bytes);
      this.queued += bytes.length;
      this.pump();
    }
    if (this.queued > 0 || this.credit === 0) this.blocked = true;
    return !this.blocked;
  }

  /** STREAM_END once the queue is sent. */
  end(): void {
    if (this.closed || this.endQueued) return;
    this.endQueued = true;
    this.pump();
  }

  /** The peer's STREAM_CREDIT. */
  grant(bytes: number): void {
    if (this.closed) return;
    this.credit = Math.min(MAX_CREDIT, this.credit + bytes);
    this.pump();
  }

  /** Drops what is queued; nothing more is sent. */
  close(): void {
    this.closed = true;
    this.room.cancel(this.pump);
    this.queue = [];
    this.queued = 0;
  }

  private readonly pump = (): void => {
    if (this.closed) return;
    while (this.queued > 0 && this.credit > 0) {
      if (!this.room.available) {
        this.room.wait(this.pump);
        return;
      }
      const head = this.queue[0]!;
      const size = Math.min(head.length, this.credit, STREAM_MAX_DATA);
      const bytes = size === head.length ? head : head.subarray(0, size);
      if (!this.link.sendStreamFrame({ type: "data", id: this.id, bytes })) {
        this.fail();
        return;
      }
      this.credit -= size;
      this.queued -= size;
      this.bytesSent += size;
      this.framesSent++;
      if (size === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(size);
    }
    if (this.queued > 0) return;
    if (this.endQueued && !this.endSent) {
      if (!this.link.sendStreamFrame({ type: "end", id: this.id })) {
        this.fail();
        return;
      }
      this.endSent = true;
      this.events.ended();
      return;
    }
    if (this.blocked && this.credit > 0) {
      this.blocked = false;
      this.events.drained();
    }
  };

  private fail(): void {
    this.close();
    this.events.failed();
  }
}

/**
 * One stream's inbound half. Its window may be larger than STREAM_INITIAL_CREDIT: the rest is
 * granted at once by `openWindow`, so that one stream can fill a link with a long round trip
 * (a 256 KiB window caps a 100 ms link at 2.5 MB/s).
 */
export class StreamReceiver {
  /** Bytes the peer may still send. */
  private window = STREAM_INITIAL_CREDIT;
  private ungranted = 0;
  /** Grant in steps of a quarter window, not per chunk. */
  private readonly grantStep: number;

  constructor(
    readonly id: number,
    private readonly link: Link,
    readonly windowBytes = STREAM_INITIAL_CREDIT,
  ) {
    if (!Number.isInteger(windowBytes) || windowBytes < STREAM_INITIAL_CREDIT || windowBytes > 0xffffffff) {
      throw new RangeError(`a stream's window is ${STREAM_INITIAL_CREDIT}..2^32-1 bytes, got ${windowBytes}`);
    }
    this.grantStep = windowBytes / 4;
  }

  /** Grants the window beyond the initial credit; once the stream is open on both sides. */
  openWindow(): boolean {
    const extra = this.windowBytes - STREAM_INITIAL_CREDIT;
    if (extra === 0) return true;
    this.window += extra;
    return this.link.sendStreamFrame({ type: "credit", id: this.id, bytes: extra });
  }

  /** Counts `bytes` arriving; false when they exceed the credit granted (the peer broke the rule). */
  accept(bytes: number): boolean {
    if (bytes > this.window) return false;
    this.window -= bytes;
    return true;
  }

  /** `bytes` were passed on: grants them again. False when the CREDIT could not be queued. */
  consumed(bytes: number): boolean {
    this.ungranted += bytes;
    if (this.ungranted < this.grantStep) return true;
    const grant = this.ungranted;
    this.ungranted = 0;
    this.window += grant;
    return this.link.sendStreamFrame({ type: "credit", id: this.id, bytes: grant });
  }
}
