/**
 * Outbound side of a link: turns packets and control frames into as few stream writes as possible.
 *
 * Packets queued in one event-loop turn go into one PACKETS frame (several when they exceed the
 * frame limit), and everything pending goes out as ONE write when the turn ends (setImmediate).
 * This is what makes the link faster than `ssh -w`, which sends one SSH message per packet.
 *
 * Buffer ownership
 * - addPacket / addFrame COPY their argument into the output buffer: when they return, the caller
 *   owns its Buffer again and may reuse it (the TUN reader reuses one read buffer).
 * - Frames are built in place in a slab (a large Buffer) filled front to back. A flush hands the
 *   filled region to the stream as one view; from then on the stream owns that memory and the
 *   batcher never writes to it again (it only appends after it, or moves to a new slab). No region
 *   is reused, because a stream may hold written chunks indefinitely (an in-memory pipe passes
 *   them to its reader as they are).
 *
 * Backpressure: when a write returns false the batcher is `blocked` and keeps collecting until
 * `handleDrain()`, up to `maxQueuedBytes`; beyond that packets are dropped and counted, so memory
 * stays bounded when a producer ignores backpressure.
 */
import {
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_BYTES,
  FrameType,
  MAX_FRAME_LENGTH,
  MAX_PACKET_LENGTH,
  MIN_FRAME_LIMIT,
  writeFrameHeader,
} from "../../../shared/link-protocol.js";

export interface PacketBatcherOptions {
  /** Largest frame `length` (type byte + payload) to send. */
  maxFrameLength?: number;
  /** Pending bytes beyond which packets are dropped while the stream is blocked. */
  maxQueuedBytes?: number;
  /**
   * Room above maxQueuedBytes that only control frames may use, so a PONG or STATS still goes
   * out behind a full packet queue.
   */
  controlReserveBytes?: number;
}

/** Counters the link folds into its own; all counted when the bytes are handed to the stream. */
export interface BatcherCounters {
  writes: number;
  framesOut: number;
  bytesOut: number;
  packetsOut: number;
  queueDrops: number;
  rejectedPackets: number;
}

export type AddResult = "queued" | "dropped" | "rejected";

export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const DEFAULT_CONTROL_RESERVE_BYTES = 64 * 1024;
const MIN_SLAB_BYTES = 256 * 1024;
const NO_FRAME = -1;

export class PacketBatcher {
  readonly maxFrameLength: number;
  readonly maxQueuedBytes: number;
  readonly counters: BatcherCounters = {
    writes: 0,
    framesOut: 0,
    bytesOut: 0,
    packetsOut: 0,
    queueDrops: 0,
    rejectedPackets: 0,
  };

  private readonly write: (chunk: Buffer) => boolean;
  private readonly controlReserveBytes: number;

  /** Output memory; bytes before `flushedTo` belong to the stream, [flushedTo, end) are pending. */
  private slab: Buffer;
  private flushedTo = 0;
  private end = 0;
  /** Offset of the open PACKETS frame's header in the slab, or NO_FRAME. */
  private openFrame = NO_FRAME;
  /** PACKETS, or REVERSE_PACKETS: the same layout, the other direction. */
  private openFrameType: number = FrameType.Packets;
  /** Frames and packets in the pending region, counted out when it is written. */
  private pendingFrames = 0;
  private pendingPackets = 0;

  private isBlocked = false;
  private flushScheduled: NodeJS.Immediate | null = null;
  private closed = false;

  /**
   * @param write hands one chunk to the stream and returns false when the stream wants no more
   *   for now (stream.write semantics). The chunk is the stream's from then on.
   */
  constructor(write: (chunk: Buffer) => boolean, options: PacketBatcherOptions = {}) {
    this.write = write;
    this.maxFrameLength = options.maxFrameLength ?? MAX_FRAME_LENGTH;
    if (!Number.isInteger(this.maxFrameLength) || this.maxFrameLength < MIN_FRAME_LIMIT) {
      throw new RangeError(`maxFrameLength must be an integer of at least ${MIN_FRAME_LIMIT}`);
    }
    // While writable, a full frame is flushed at once, so the queue must hold at least one frame
    // plus the packet that overflowed it, or packets would be dropped on a healthy stream.
    const minQueue = this.maxFrameLength + FRAME_HEADER_BYTES + 2 + MAX_PACKET_LENGTH;
    this.maxQueuedBytes = Math.max(options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, minQueue);
    this.controlReserveBytes = options.controlReserveBytes ?? DEFAULT_CONTROL_RESERVE_BYTES;
    this.slab = Buffer.allocUnsafe(MIN_SLAB_BYTES);
  }

  /** True after a write returned false, until handleDrain(). */
  get blocked(): boolean {
    return this.isBlocked;
  }

  /** Bytes queued and not yet handed to the stream. */
  get pendingBytes(): number {
    return this.end - this.flushedTo;
  }

  /**
   * Queues one IP packet (copied: see the module comment). "rejected" for a packet that cannot be
   * framed (empty or over 65,535 bytes), "dropped" when the queue is full; both are counted.
   */
  addPacket(packet: Uint8Array, frameType: number = FrameType.Packets): AddResult {
    return this.addPacketWith(packet.length, (slab, offset) => slab.set(packet, offset), frameType);
  }

  /**
   * Queues a packet of `length` bytes that `fill` writes straight into the output buffer at
   * `offset`, synchronously, without calling back into the batcher: a packet is built in place,
   * with no copy and no allocation of its own.
   */
  addPacketWith(
    length: number,
    fill: (slab: Buffer, offset: number) => void,
    frameType: number = FrameType.Packets,
  ): AddResult {
    if (this.closed) return "dropped";
    if (length === 0 || length > MAX_PACKET_LENGTH) {
      this.counters.rejectedPackets++;
      return "rejected";
    }
    const needed = 2 + length;
    // A packet of the other direction (REVERSE_PACKETS) starts a frame of its own type.
    if (this.openFrame !== NO_FRAME && this.openFrameType !== frameType) this.closeOpenFrame();
    if (this.openFrame !== NO_FRAME && !this.fitsOpenFrame(needed)) {
      this.closeOpenFrame();
      // The open frame is full: send it now rather than at the end of the turn, which keeps the
      // slab small under a long burst and lets backpressure show up early.
      if (!this.isBlocked) this.flush();
    }
    // Decided only now: a synchronous stream (an in-memory pipe) may have re-entered addPacket
    // or addFrame from inside the write above.
    const opensFrame = !this.fitsOpenFrame(needed) || this.openFrameType !== frameType;
    const extra = needed + (opensFrame ? FRAME_HEADER_BYTES : 0);
    if (this.pendingBytes + extra > this.maxQueuedBytes) {
      this.counters.queueDrops++;
      return "dropped";
    }
    this.reserve(extra);
    if (opensFrame) {
      this.closeOpenFrame();
      this.openFrame = this.end;
      this.openFrameType = frameType;
      this.end += FRAME_HEADER_BYTES;
      this.pendingFrames++;
    }
    const slab = this.slab;
    slab[this.end] = length >>> 8;
    slab[this.end + 1] = length & 0xff;
    fill(slab, this.end + 2);
    this.end += needed;
    this.pendingPackets++;
    this.scheduleFlush();
    return "queued";
  }

  /**
   * Queues a control frame (payload copied). Returns false, counting a queue drop, when even the
   * control reserve is full; `force` skips that check for the last frames of a link (ERROR, BYE).
   * Throws RangeError when the payload cannot fit in one frame: that is a bug in the caller.
   */
  addFrame(type: number, payload: Uint8Array, force = false): boolean {
    return this.addFrameWith(type, payload.length, (slab, offset) => slab.set(payload, offset), force);
  }

  /**
   * addFrame for a payload of `payloadLength` bytes that `fill` writes in place at `offset`,
   * synchronously and without calling back into the batcher (as addPacketWith).
   */
  addFrameWith(
    type: number,
    payloadLength: number,
    fill: (slab: Buffer, offset: number) => void,
    force = false,
  ): boolean {
    if (this.closed) return false;
    if (payloadLength + 1 > this.maxFrameLength) {
      throw new RangeError(
        `a frame of ${payloadLength + 1} bytes is over the frame limit of ${this.maxFrameLength}`,
      );
    }
    const needed = FRAME_HEADER_BYTES + payloadLength;
    if (!force && this.pendingBytes + needed > this.maxQueuedBytes + this.controlReserveBytes) {
      this.counters.queueDrops++;
      return false;
    }
    this.closeOpenFrame();
    this.reserve(needed);
    writeFrameHeader(this.slab, this.end, type, payloadLength);
    fill(this.slab, this.end + FRAME_HEADER_BYTES);
    this.end += needed;
    this.pendingFrames++;
    this.scheduleFlush();
    return true;
  }

  /**
   * Hands everything pending to the stream in one write, unless blocked. `force` writes even when
   * blocked (the stream buffers it): for the last frames of a link.
   */
  flush(force = false): void {
    if (this.closed || (this.isBlocked && !force)) return;
    this.closeOpenFrame();
    const length = this.pendingBytes;
    if (length === 0) return;
    const chunk = this.slab.subarray(this.flushedTo, this.end);
    this.flushedTo = this.end;
    this.counters.writes++;
    this.counters.bytesOut += length;
    this.counters.framesOut += this.pendingFrames;
    this.counters.packetsOut += this.pendingPackets;
    this.pendingFrames = 0;
    this.pendingPackets = 0;
    if (!this.write(chunk)) this.isBlocked = true;
  }

  /** The stream drained: flush what piled up. Returns true when no longer blocked. */
  handleDrain(): boolean {
    this.isBlocked = false;
    this.flush();
    return !this.isBlocked;
  }

  /** Drops everything pending and stops accepting; pending frames are not counted as out. */
  close(): void {
    this.closed = true;
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
    this.openFrame = NO_FRAME;
    this.flushedTo = this.end;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled !== null || this.isBlocked) return;
    this.flushScheduled = setImmediate(() => {
      this.flushScheduled = null;
      this.flush();
    });
  }

  /** Whether `bytes` more fit in the open PACKETS frame (false when none is open). */
  private fitsOpenFrame(bytes: number): boolean {
    return (
      this.openFrame !== NO_FRAME &&
      this.end + bytes - this.openFrame - FRAME_LENGTH_BYTES <= this.maxFrameLength
    );
  }

  /** Finishes the open PACKETS frame's header so the pending bytes are whole frames. */
  private closeOpenFrame(): void {
    if (this.openFrame === NO_FRAME) return;
    writeFrameHeader(
      this.slab,
      this.openFrame,
      this.openFrameType,
      this.end - this.openFrame - FRAME_HEADER_BYTES,
    );
    this.openFrame = NO_FRAME;
  }

  /** Makes room for `bytes` more at `end`, moving the pending region to a new slab if needed. */
  private reserve(bytes: number): void {
    if (this.end + bytes <= this.slab.length) return;
    const pending = this.pendingBytes;
    // The flushed part of the old slab stays with the stream; copy only what is still ours.
    let size = MIN_SLAB_BYTES;
    while (size < 2 * (pending + bytes)) size *= 2;
    const slab = Buffer.allocUnsafe(size);
    this.slab.copy(slab, 0, this.flushedTo, this.end);
    if (this.openFrame !== NO_FRAME) this.openFrame -= this.flushedTo;
    this.slab = slab;
    this.flushedTo = 0;
    this.end = pending;
  }
}
