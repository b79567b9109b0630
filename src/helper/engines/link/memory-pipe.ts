/**
 * Two connected in-memory Duplex streams, like the two ends of a socket: what one end writes, the
 * other reads. For tests of anything that runs over a link.
 *
 * Backpressure is real: a write is acknowledged only once the reading end has room for it (its
 * readable buffer is under highWaterMark), so a reader that stops reading makes the writer's
 * write() return false, as a socket whose peer stops reading does.
 *
 * Chunks are passed by reference, not copied: a writer must not modify a Buffer after writing it.
 */
import { Duplex } from "node:stream";

export interface MemoryPipeOptions {
  /** Bytes each direction buffers on each side before pushing back. Default 64 KiB. */
  highWaterMark?: number;
}

class PipeEnd extends Duplex {
  peer: PipeEnd | null = null;
  /** The peer's write callback, held while our readable buffer is full. */
  private heldWrite: ((error?: Error | null) => void) | null = null;

  constructor(highWaterMark: number) {
    super({ highWaterMark, allowHalfOpen: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer === null || peer.destroyed || peer.readableEnded) {
      callback(new Error("write to a memory pipe whose other end is closed (EPIPE)"));
      return;
    }
    if (peer.push(chunk)) callback();
    else peer.heldWrite = callback;
  }

  override _read(): void {
    this.releaseHeldWrite();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer !== null && !peer.destroyed) peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Like a reset connection: the writer blocked on us fails, the other end reads EOF.
    this.releaseHeldWrite(new Error("memory pipe closed (ECONNRESET)"));
    const peer = this.peer;
    if (peer !== null && !peer.destroyed && !peer.readableEnded) peer.push(null);
    callback(error);
  }

  private releaseHeldWrite(error?: Error): void {
    const callback = this.heldWrite;
    this.heldWrite = null;
    callback?.(error);
  }
}

export function createMemoryPipe(options: MemoryPipeOptions = {}): [Duplex, Duplex] {
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  const a = new PipeEnd(highWaterMark);
  const b = new PipeEnd(highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
