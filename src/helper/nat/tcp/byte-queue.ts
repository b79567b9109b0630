/**
 * The send buffer of a TCP flow: bytes read from the local socket, from the oldest unacknowledged
 * byte onwards. Chunks are kept as the socket delivered them (the queue owns them from `push`
 * on); `read` returns a view when a range lies in one chunk and copies only when it spans two.
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

  /** Up to `length` bytes starting `offset` bytes into the queue. */
  read(offset: number, length: number): Buffer {
    const wanted = Math.min(length, this.total - offset);
    if (wanted <= 0) return Buffer.alloc(0);
    let skip = offset + this.head;
    let index = 0;
    while (skip >= this.chunks[index]!.length) {
      skip -= this.chunks[index]!.length;
      index++;
    }
    const first = this.chunks[index]!;
    if (skip + wanted <= first.length) return first.subarray(skip, skip + wanted);
    const out = Buffer.allocUnsafe(wanted);
    let copied = first.copy(out, 0, skip);
    while (copied < wanted) {
      const chunk = this.chunks[++index]!;
      copied += chunk.copy(out, copied, 0, Math.min(chunk.length, wanted - copied));
    }
    return out;
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
