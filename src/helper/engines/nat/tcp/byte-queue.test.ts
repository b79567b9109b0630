import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ByteQueue } from "./byte-queue.js";

test("copyTo copies any range across chunks, after any consumption", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      (chunks, consumeSeed, offsetSeed, lengthSeed) => {
        const queue = new ByteQueue();
        for (const chunk of chunks) queue.push(Buffer.from(chunk));
        const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        const consumed = consumeSeed % (all.length + 1);
        queue.consume(consumed);
        const rest = all.subarray(consumed);
        assert.equal(queue.length, rest.length);
        if (rest.length === 0) return;
        const offset = offsetSeed % rest.length;
        const length = 1 + (lengthSeed % (rest.length - offset));
        const target = Buffer.alloc(length + 3);
        queue.copyTo(target, 3, offset, length);
        assert.deepEqual(target.subarray(3), rest.subarray(offset, offset + length));
      },
    ),
    { numRuns: 2_000 },
  );
});
