import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ReassemblyQueue } from "./reassembly.js";
import { seqAdd } from "./seq.js";

test("out-of-order segments come back in order once the hole is filled, across wrap-around", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 2, maxLength: 20 }),
      fc.infiniteStream(fc.nat()),
      (base, sizes, random) => {
        const stream = Buffer.from(
          sizes.flatMap((n, i) => Array.from({ length: n }, (_, j) => (i * 31 + j) & 0xff)),
        );
        const segments: Array<[number, Buffer]> = [];
        let offset = 0;
        for (const n of sizes) {
          segments.push([offset, stream.subarray(offset, offset + n)]);
          offset += n;
        }
        // Deliver all but the first in a shuffled order, with duplicates, then the first.
        const rest = segments.slice(1);
        const order = rest.map((s) => [random.next().value, s] as const).sort((a, b) => a[0] - b[0]);
        const queue = new ReassemblyQueue();
        for (const [, [at, data]] of order) {
          queue.insert(seqAdd(base, at), data, 1 << 20);
          queue.insert(seqAdd(base, at), data, 1 << 20);
        }
        const blocks = queue.sackBlocks(4);
        assert.ok(blocks.length >= 1);
        const first = segments[0]!;
        const delivered = [first[1], ...queue.take(seqAdd(base, first[1].length))];
        assert.deepEqual(Buffer.concat(delivered), stream);
        assert.ok(queue.isEmpty);
        assert.equal(queue.bytes, 0);
      },
    ),
    { numRuns: 500 },
  );
});

test("SACK blocks merge adjacent ranges and put the latest first", () => {
  const queue = new ReassemblyQueue();
  queue.insert(100, Buffer.alloc(10), 1000);
  queue.insert(110, Buffer.alloc(10), 1000);
  queue.insert(200, Buffer.alloc(10), 1000);
  assert.deepEqual(queue.sackBlocks(4), [
    { left: 200, right: 210 },
    { left: 100, right: 120 },
  ]);
});

test("the byte bound is honoured", () => {
  const queue = new ReassemblyQueue();
  queue.insert(100, Buffer.alloc(600), 1000);
  queue.insert(800, Buffer.alloc(600), 1000);
  assert.equal(queue.bytes, 600);
});
