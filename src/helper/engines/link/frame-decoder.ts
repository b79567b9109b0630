/**
 * Incremental decoder for link frames (see src/shared/link-protocol.ts): fed stream chunks of any
 * size, it yields whole frames.
 *
 * Zero-copy where it can be: a frame that lies within one chunk is returned as a view into that
 * chunk; only a frame that straddles chunks is copied, into a Buffer allocated for that frame.
 * Nothing is reused, so a returned payload stays valid, but it pins the memory it views (the chunk,
 * or the frame's own copy): copy what you keep for long.
 *
 * Memory is bounded by the caller's pushing: the decoder holds the chunks pushed and not yet
 * consumed, plus at most one partial frame of at most `maxFrameLength` bytes. A caller that pulls
 * every frame after each push therefore holds no more than one frame plus one chunk.
 */
import { FRAME_LENGTH_BYTES, LinkError, MAX_FRAME_LENGTH } from "../../../shared/link-protocol.js";

export interface DecodedFrame {
  readonly type: number;
  /** The payload (after the type byte); a view, see the module comment. */
  readonly payload: Buffer;
}

export class FrameDecoder {
  readonly maxFrameLength: number;

  /** Pushed and not yet consumed; chunks[0] is consumed up to `offset`. */
  private readonly chunks: Buffer[] = [];
  private offset = 0;

  /** Bytes of a length field split across chunks, and its value so far. */
  private lengthBytesSeen = 0;
  private lengthSoFar = 0;

  /** The frame being assembled across chunks (type byte + payload), or null. */
  private partial: Buffer | null = null;
  private partialFilled = 0;

  private failure: LinkError | null = null;

  /** @param maxFrameLength largest accepted `length` field (type byte + payload) */
  constructor(maxFrameLength: number = MAX_FRAME_LENGTH) {
    if (!Number.isInteger(maxFrameLength) || maxFrameLength < 1 || maxFrameLength > 0xffffffff) {
      throw new RangeError(`maxFrameLength ${maxFrameLength} is not an integer from 1 to 2^32-1`);
    }
    this.maxFrameLength = maxFrameLength;
  }

  /**
   * Adds a chunk. The decoder keeps a reference (no copy) until its bytes are consumed, and may
   * return views into it: the caller must not modify the chunk afterwards.
   */
  push(chunk: Buffer): void {
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /**
   * The next whole frame, or null when more bytes are needed. Throws LinkError FRAME_TOO_LARGE or
   * EMPTY_FRAME when a length field is invalid; the decoder then stays failed (every later call
   * throws the same error), since the stream can no longer be split into frames.
   */
  next(): DecodedFrame | null {
    if (this.failure !== null) throw this.failure;
    for (;;) {
      const chunk = this.chunks[0];
      if (chunk === undefined) return null;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
        continue;
      }

      if (this.partial !== null) {
        const frame = this.fillPartial(chunk);
        if (frame !== null) return frame;
        continue;
      }

      let length: number;
      if (this.lengthBytesSeen === 0 && chunk.length - this.offset >= FRAME_LENGTH_BYTES) {
        length = chunk.readUInt32BE(this.offset);
        this.offset += FRAME_LENGTH_BYTES;
      } else {
        // A length field split across chunks: gather it byte by byte.
        while (this.lengthBytesSeen < FRAME_LENGTH_BYTES && this.offset < chunk.length) {
          this.lengthSoFar = this.lengthSoFar * 256 + (chunk[this.offset] ?? 0);
          this.lengthBytesSeen++;
          this.offset++;
        }
        if (this.lengthBytesSeen < FRAME_LENGTH_BYTES) continue;
        length = this.lengthSoFar;
        this.lengthBytesSeen = 0;
        this.lengthSoFar = 0;
      }
      this.checkLength(length);

      if (chunk.length - this.offset >= length) {
        const start = this.offset;
        this.offset += length;
        return { type: chunk[start] ?? 0, payload: chunk.subarray(start + 1, start + length) };
      }
      this.partial = Buffer.allocUnsafe(length);
      this.partialFilled = 0;
    }
  }

  /**
   * Declares the end of the stream. Throws LinkError TRUNCATED_FRAME when it ends inside a frame
   * (call after pulling every whole frame with next()).
   */
  finish(): void {
    if (this.failure !== null) throw this.failure;
    const pending = this.bufferedBytes;
    if (pending === 0) return;
    const expected =
      this.partial !== null
        ? `a frame of ${FRAME_LENGTH_BYTES + this.partial.length} bytes`
        : "the rest of a frame";
    this.failure = new LinkError(
      "TRUNCATED_FRAME",
      `the link ended in the middle of a frame (${pending} bytes received of ${expected}): ` +
        "the other side stopped while sending, or something else wrote to the stream",
    );
    throw this.failure;
  }

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    let bytes = this.lengthBytesSeen + (this.partial === null ? 0 : this.partialFilled + FRAME_LENGTH_BYTES);
    for (const chunk of this.chunks) bytes += chunk.length;
    return bytes - this.offset;
  }

  /** Bytes held in memory by the decoder: unconsumed chunks and the partial frame's buffer. */
  get retainedBytes(): number {
    let bytes = this.partial === null ? 0 : this.partial.length;
    for (const chunk of this.chunks) bytes += chunk.length;
    return bytes;
  }

  private fillPartial(chunk: Buffer): DecodedFrame | null {
    const frame = this.partial;
    if (frame === null) return null;
    const take = Math.min(frame.length - this.partialFilled, chunk.length - this.offset);
    chunk.copy(frame, this.partialFilled, this.offset, this.offset + take);
    this.offset += take;
    this.partialFilled += take;
    if (this.partialFilled < frame.length) return null;
    this.partial = null;
    return { type: frame[0] ?? 0, payload: frame.subarray(1) };
  }

  private checkLength(length: number): void {
    if (length === 0) {
      this.failure = new LinkError(
        "EMPTY_FRAME",
        "the peer sent a frame of length 0 (a frame holds at least its type byte): " +
          "the stream is corrupt or is not a Backhaul link",
      );
    } else if (length > this.maxFrameLength) {
      this.failure = new LinkError(
        "FRAME_TOO_LARGE",
        `the peer sent a frame of ${length} bytes, over this side's limit of ${this.maxFrameLength}: ` +
          "the stream is not a Backhaul link (is something else writing to it?), " +
          "or the two sides are configured with different frame limits",
      );
    }
    if (this.failure !== null) throw this.failure;
  }
}
