/**
 * What the remote reported holding beyond sndUna (its SACK blocks, RFC 2018): the send side
 * resends only the holes between them during fast recovery (RFC 6675's idea, without its pipe
 * accounting: the remote kernel's congestion control paces us through its window). Ranges are
 * disjoint, sorted, merged, and never below sndUna; the remote may renege (RFC 2018 §8), so a
 * timeout ignores the scoreboard and resends everything.
 */
import type { SackBlock } from "../../packet/index.js";
import { seqGeq, seqGt, seqLeq, seqLt } from "./seq.js";

/** More blocks than a segment can carry are never needed: four per ACK, merged as they come. */
const MAX_RANGES = 32;

export class Scoreboard {
  private ranges: SackBlock[] = [];

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** The right edge of the highest range held by the remote; undefined when none. */
  get highest(): number | undefined {
    return this.ranges[this.ranges.length - 1]?.right;
  }

  /**
   * Adds the blocks of one ACK; blocks outside (una, max] are ignored (stale, or lies). True when
   * something new was learnt.
   */
  add(blocks: readonly SackBlock[], una: number, max: number): boolean {
    let learnt = false;
    for (const block of blocks) {
      if (!seqLt(block.left, block.right) || seqLeq(block.right, una) || seqGt(block.right, max)) continue;
      const left = seqLt(block.left, una) ? una : block.left;
      learnt = this.insert(left, block.right) || learnt;
    }
    return learnt;
  }

  /** sndUna moved to `una`: what is below it is acknowledged for good. */
  acknowledged(una: number): void {
    let drop = 0;
    while (drop < this.ranges.length && seqLeq(this.ranges[drop]!.right, una)) drop++;
    if (drop > 0) this.ranges.splice(0, drop);
    const first = this.ranges[0];
    if (first && seqLt(first.left, una)) this.ranges[0] = { left: una, right: first.right };
  }

  /** Calls `hole(left, right)` for each gap in [from, highest) the remote has not reported. */
  forEachHole(from: number, hole: (left: number, right: number) => void): void {
    let cursor = from;
    for (const range of this.ranges) {
      if (seqLeq(range.right, cursor)) continue;
      if (seqLt(cursor, range.left)) hole(cursor, range.left);
      cursor = range.right;
    }
  }

  clear(): void {
    this.ranges = [];
  }

  private insert(left: number, right: number): boolean {
    const ranges = this.ranges;
    let index = 0;
    while (index < ranges.length && seqLt(ranges[index]!.right, left)) index++;
    let mergedLeft = left;
    let mergedRight = right;
    let end = index;
    while (end < ranges.length && seqLeq(ranges[end]!.left, mergedRight)) {
      const range = ranges[end]!;
      if (seqLeq(range.left, left) && seqGeq(range.right, right)) return false; // known already
      if (seqLt(range.left, mergedLeft)) mergedLeft = range.left;
      if (seqGt(range.right, mergedRight)) mergedRight = range.right;
      end++;
    }
    ranges.splice(index, end - index, { left: mergedLeft, right: mergedRight });
    if (ranges.length > MAX_RANGES) ranges.splice(0, ranges.length - MAX_RANGES);
    return true;
  }
}
