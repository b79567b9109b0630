import { SeededRandom } from "../../src/helper/engines/port/seeded-random.js";

/** The fuzzers' generator: SeededRandom (mulberry32) with picks and random bytes. */
export class Prng extends SeededRandom {
  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

export { fuzzSeed } from "../../src/helper/engines/fuzz-runs.js";
