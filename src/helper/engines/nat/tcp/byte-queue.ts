/**
 * The send buffer of a TCP flow: bytes read from the local socket, from the oldest unacknowledged
 * byte onwards. Chunks are kept as the socket delivered them (the queue owns them from `push`
 * on); `copyTo` copies a range straight into an outgoing packet, across chunk boundaries.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Offset of the first live byte within chunks[0]. */
  private head = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Copies `length` bytes starting `offset` bytes into the queue to `target` at `at`. */
  copyTo(target: Buffer, at: number, offset: number, length: number): void {
    let skip = offset + this.head;
    let index = 0;
    while (skip >= this.chunks[index]!.length) {
      skip -= this.chunks[index]!.length;
      index++;
    }
    let copied = 0;
    while (copied < length) {
      const chunk = this.chunks[index++]!;
      copied += chunk.copy(target, at + copied, skip, Math.min(chunk.length, skip + length - copied));
      skip = 0;
    }
  }

  /** Drops the first `length` bytes (they were acknowledged). */
  consume(length: number): void {
    let left = Math.min(length, this.total);
    this.total -= left;
    while (left > 0) {
      const first = this.chunks[0]!;
      const available = first.length - this.head;
      if (left < available) {
        this.head += left;
        return;
      }
      left -= available;
      this.chunks.shift();
      this.head = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
  }
}
