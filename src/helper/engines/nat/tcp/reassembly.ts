import type { SackBlock } from "../../packet/index.js";
import { seqAdd, seqDiff, seqGt, seqLeq, seqLt } from "./seq.js";

interface Held {
  seq: number;
  data: Buffer;
}

/**
 * Segments that arrived after a gap (an earlier one was dropped on the way, typically by the
 * remote's TUN queue). Holding them and reporting them as SACK blocks lets the remote resend only
 * the hole instead of everything after it. Bounded by the receive window: the queue owns copies.
 */
export class ReassemblyQueue {
  private held: Held[] = [];
  private total = 0;
  /** The range that received data most recently: reported first (RFC 2018 §4). */
  private latest: Held | undefined;

  get bytes(): number {
    return this.total;
  }

  get isEmpty(): boolean {
    return this.held.length === 0;
  }

  /** Keeps a copy of `data` at `seq` (beyond rcvNxt), unless that would exceed `maxBytes`. */
  insert(seq: number, data: Buffer, maxBytes: number): void {
    if (data.length === 0 || this.total + data.length > maxBytes) return;
    const end = seqAdd(seq, data.length);
    let index = 0;
    while (index < this.held.length && seqLt(this.held[index]!.seq, seq)) index++;
    const before = this.held[index - 1];
    if (before && seqLeq(end, seqAdd(before.seq, before.data.length))) return; // already held
    const after = this.held[index];
    if (after && after.seq === seq && after.data.length >= data.length) return;
    const entry = { seq, data: Buffer.from(data) };
    this.held.splice(index, 0, entry);
    this.total += entry.data.length;
    this.latest = entry;
  }

  /** Removes and returns, in order, the data that now continues from `rcvNxt`. */
  take(rcvNxt: number): Buffer[] {
    const out: Buffer[] = [];
    let next = rcvNxt;
    while (this.held.length > 0) {
      const first = this.held[0]!;
      if (seqGt(first.seq, next)) break;
      this.held.shift();
      this.total -= first.data.length;
      const skip = seqDiff(next, first.seq);
      if (skip < first.data.length) {
        const fresh = first.data.subarray(skip);
        out.push(fresh);
        next = seqAdd(next, fresh.length);
      }
    }
    if (this.latest && !this.held.includes(this.latest)) this.latest = undefined;
    return out;
  }

  /** Up to `max` SACK blocks: merged held ranges, the most recent first. */
  sackBlocks(max: number): SackBlock[] {
    const ranges: SackBlock[] = [];
    let recent = -1;
    for (const segment of this.held) {
      const left = segment.seq;
      const right = seqAdd(segment.seq, segment.data.length);
      const last = ranges[ranges.length - 1];
      if (last && seqLeq(left, last.right)) {
        if (seqGt(right, last.right)) ranges[ranges.length - 1] = { left: last.left, right };
      } else {
        ranges.push({ left, right });
      }
      if (segment === this.latest) recent = ranges.length - 1;
    }
    if (recent > 0) ranges.unshift(...ranges.splice(recent, 1));
    return ranges.slice(0, max);
  }

  clear(): void {
    this.held = [];
    this.total = 0;
    this.latest = undefined;
  }
}
