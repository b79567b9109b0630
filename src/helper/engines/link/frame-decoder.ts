/**
 * Incremental decoder for link frames (see src/shared/link-protocol.ts): fed stream chunks of any
 * size, it yields whole frames.
 *
 * Zero-copy where it can be: a frame that lies within one chunk is returned as a view into that
 * chunk; a frame that straddles chunks is copied, into a Buffer allocated for that frame, unless
 * the caller of `nextOrSplit` keeps frames of its type split: then it gets the frame's pieces, views
 * into each chunk it spans. (A link's reads are 64 KiB, as large as its largest STREAM_DATA, so
 * nearly every full STREAM_DATA frame straddles two reads: split, its bytes are never copied
 * here.) Nothing is reused, so a returned payload stays valid, but it pins the memory it views
 * (the chunks, or the frame's own copy): copy what you keep for long.
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

/** A frame that straddled chunks, of a type kept split: its payload is `parts` joined. */
export interface SplitFrame {
  readonly type: number;
  /** Views into the chunks, in order, none empty; see the module comment. */
  readonly parts: readonly Buffer[];
  /** The payload's length: the sum of the parts'. */
  readonly length: number;
}

export const isSplitFrame = (frame: DecodedFrame | SplitFrame): frame is SplitFrame => "parts" in frame;

export class FrameDecoder {
  readonly maxFrameLength: number;

  /** Pushed and not yet consumed; chunks[0] is consumed up to `offset`. */
  private readonly chunks: Buffer[] = [];
  private offset = 0;

  /** Bytes of a length field split across chunks, and its value so far. */
  private lengthBytesSeen = 0;
  private lengthSoFar = 0;

  /** The frame being assembled across chunks (type byte + payload): its length, 0 for none. */
  private partialLength = 0;
  private partialFilled = 0;
  /** Where it is assembled: a copy, or the views into the chunks it spans (a type kept split). */
  private partialCopy: Buffer | null = null;
  private partialParts: Buffer[] | null = null;

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
    const frame = this.nextOrSplit(null);
    // Only a frame begun by nextOrSplit can come back split: joined here, as next() promises.
    return frame === null || !isSplitFrame(frame)
      ? frame
      : { type: frame.type, payload: Buffer.concat(frame.parts, frame.length) };
  }

  /**
   * As next(), but a frame that straddles chunks and whose type `keepSplit` accepts (asked when the
   * frame's first byte arrives) comes back as a SplitFrame, not copied.
   */
  nextOrSplit(keepSplit: ((type: number) => boolean) | null): DecodedFrame | SplitFrame | null {
    if (this.failure !== null) throw this.failure;
    for (;;) {
      const chunk = this.chunks[0];
      if (chunk === undefined) return null;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
        continue;
      }

      if (this.partialLength > 0) {
        const frame = this.fillPartial(chunk, keepSplit);
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
      // Copied or kept split: decided at the frame's first byte (fillPartial), which may be in
      // the next chunk.
      this.partialLength = length;
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
      this.partialLength > 0
        ? `a frame of ${FRAME_LENGTH_BYTES + this.partialLength} bytes`
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
    let bytes =
      this.lengthBytesSeen + (this.partialLength === 0 ? 0 : this.partialFilled + FRAME_LENGTH_BYTES);
    for (const chunk of this.chunks) bytes += chunk.length;
    return bytes - this.offset;
  }

  /** Bytes held in memory by the decoder: unconsumed chunks and the partial frame's copy or views. */
  get retainedBytes(): number {
    let bytes = this.partialCopy?.length ?? 0;
    for (const part of this.partialParts ?? []) bytes += part.length;
    for (const chunk of this.chunks) bytes += chunk.length;
    return bytes;
  }

  private fillPartial(
    chunk: Buffer,
    keepSplit: ((type: number) => boolean) | null,
  ): DecodedFrame | SplitFrame | null {
    if (this.partialFilled === 0) {
      // The frame's first byte, its type, is at `offset` (the caller skips exhausted chunks).
      if (keepSplit !== null && keepSplit(chunk[this.offset] ?? 0)) this.partialParts = [];
      else this.partialCopy = Buffer.allocUnsafe(this.partialLength);
    }
    const take = Math.min(this.partialLength - this.partialFilled, chunk.length - this.offset);
    if (this.partialCopy !== null)
      chunk.copy(this.partialCopy, this.partialFilled, this.offset, this.offset + take);
    else this.partialParts?.push(chunk.subarray(this.offset, this.offset + take));
    this.offset += take;
    this.partialFilled += take;
    if (this.partialFilled < this.partialLength) return null;
    const length = this.partialLength - 1;
    const copy = this.partialCopy;
    const parts = this.partialParts ?? [];
    this.partialLength = 0;
    this.partialFilled = 0;
    this.partialCopy = null;
    this.partialParts = null;
    if (copy !== null) return { type: copy[0] ?? 0, payload: copy.subarray(1) };
    // The type byte starts the first part; a part it leaves empty is dropped.
    const first = parts[0]!;
    const type = first[0] ?? 0;
    if (first.length === 1) parts.shift();
    else parts[0] = first.subarray(1);
    return { type, parts, length };
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
