import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FrameType, LinkError, encodeFrame } from "../../../shared/link-protocol.js";
import { FrameDecoder } from "./frame-decoder.js";
import type { DecodedFrame } from "./frame-decoder.js";
import { mutatedBytes } from "./test-arbitraries.js";
import { FUZZ_RUNS } from "../fuzz-runs.js";

interface PlainFrame {
  type: number;
  payload: Buffer;
}

const arbitraryFrame: fc.Arbitrary<PlainFrame> = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }))
  .map(([type, bytes]) => ({ type, payload: Buffer.from(bytes) }));

/** Cuts `bytes` at the given points (taken modulo its length), in order. */
function split(bytes: Buffer, points: number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  return chunks;
}

/** Pushes each chunk and pulls every frame after it, as the link does. */
function decodeAll(
  decoder: FrameDecoder,
  chunks: Buffer[],
  onPush?: (chunk: Buffer) => void,
): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
    onPush?.(chunk);
  }
  return frames;
}

function plain(frames: readonly DecodedFrame[]): PlainFrame[] {
  return frames.map(({ type, payload }) => ({ type, payload: Buffer.from(payload) }));
}

function header(length: number, type?: number): Buffer {
  const bytes = Buffer.alloc(type === undefined ? 4 : 5);
  bytes.writeUInt32BE(length, 0);
  if (type !== undefined) bytes[4] = type;
  return bytes;
}

function assertLinkError(action: () => unknown, code: LinkError["code"]): LinkError {
  let caught: unknown;
  assert.throws(action, (error: unknown) => {
    caught = error;
    return error instanceof LinkError && error.code === code;
  });
  return caught as LinkError;
}

describe("FrameDecoder", () => {
  it("yields the same frames however the stream is split", () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryFrame, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, points) => {
          const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
          const decoder = new FrameDecoder(400);
          assert.deepEqual(plain(decodeAll(decoder, split(stream, points))), frames);
          assert.equal(decoder.bufferedBytes, 0);
          decoder.finish();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("yields the same frames when fed one byte at a time", () => {
    const frames = [
      { type: FrameType.Hello, payload: Buffer.from("hello") },
      { type: FrameType.Packets, payload: Buffer.alloc(0) },
      { type: 99, payload: Buffer.alloc(1000, 3) },
    ];
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
    const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    assert.deepEqual(plain(decodeAll(new FrameDecoder(), bytes)), frames);
  });

  it("returns views into the chunk for frames within it, copies for frames across chunks", () => {
    const a = encodeFrame(FrameType.Bye, Buffer.from("first"));
    const b = encodeFrame(FrameType.Bye, Buffer.from("second"));
    const stream = Buffer.concat([a, b]);
    const decoder = new FrameDecoder();
    decoder.push(stream.subarray(0, a.length + 7));
    const first = decoder.next();
    assert.ok(first !== null);
    assert.equal(decoder.next(), null);
    decoder.push(stream.subarray(a.length + 7));
    const second = decoder.next();
    assert.ok(second !== null);
    assert.equal(second.payload.toString(), "second");
    // Writing into the stream shows which payload shares its memory (callers must not; tests may).
    stream.fill(0x2a);
    assert.equal(first.payload.toString(), "*****", "whole frame: a view into the chunk");
    assert.equal(second.payload.toString(), "second", "straddling frame: its own copy");
  });

  it("never reuses the memory of a payload it returned", () => {
    const frames = [encodeFrame(1, Buffer.alloc(3000, 1)), encodeFrame(1, Buffer.alloc(3000, 2))];
    const stream = Buffer.concat(frames);
    const decoder = new FrameDecoder();
    const decoded = decodeAll(decoder, split(stream, [100, 3100, 3200, 5000]));
    assert.equal(decoded.length, 2);
    assert.ok(decoded[0]?.payload.every((byte) => byte === 1));
    assert.ok(decoded[1]?.payload.every((byte) => byte === 2));
  });

  it("zero-copy also when only the length field straddles chunks", () => {
    const frame = encodeFrame(FrameType.Bye, Buffer.from("payload"));
    const decoder = new FrameDecoder();
    decoder.push(frame.subarray(0, 2));
    assert.equal(decoder.next(), null);
    decoder.push(frame.subarray(2));
    const decoded = decoder.next();
    assert.ok(decoded !== null);
    assert.equal(decoded.payload.toString(), "payload");
    frame.fill(0x2a, 5);
    assert.equal(decoded.payload.toString(), "*******");
  });

  it("holds at most one frame plus one chunk", () => {
    const max = 70_000;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: max - 1 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 20_000 }),
        (sizes, chunkSize) => {
          const stream = Buffer.concat(sizes.map((size) => encodeFrame(7, Buffer.alloc(size))));
          const chunks: Buffer[] = [];
          for (let i = 0; i < stream.length; i += chunkSize) chunks.push(stream.subarray(i, i + chunkSize));
          const decoder = new FrameDecoder(max);
          let peak = 0;
          const frames = decodeAll(decoder, chunks, () => {
            peak = Math.max(peak, decoder.retainedBytes);
          });
          assert.equal(frames.length, sizes.length);
          assert.ok(peak <= max + chunkSize, `held ${peak} bytes`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("accepts a frame of exactly the limit and refuses one byte more, before its body arrives", () => {
    const decoder = new FrameDecoder(100);
    decoder.push(encodeFrame(5, Buffer.alloc(99)));
    assert.equal(decoder.next()?.payload.length, 99);

    const tooLarge = new FrameDecoder(100);
    for (const byte of header(101)) tooLarge.push(Buffer.from([byte]));
    const error = assertLinkError(() => tooLarge.next(), "FRAME_TOO_LARGE");
    assert.match(error.message, /frame of 101 bytes, over this side's limit of 100/);
    // The stream cannot be resynchronised: the decoder stays failed.
    tooLarge.push(encodeFrame(5, Buffer.alloc(1)));
    assert.equal(
      assertLinkError(() => tooLarge.next(), "FRAME_TOO_LARGE"),
      error,
    );
    assert.equal(
      assertLinkError(() => tooLarge.finish(), "FRAME_TOO_LARGE"),
      error,
    );
  });

  it("refuses a huge length without allocating for it", () => {
    const decoder = new FrameDecoder();
    decoder.push(header(0xffffffff, 1));
    assertLinkError(() => decoder.next(), "FRAME_TOO_LARGE");
    assert.ok(decoder.retainedBytes <= 5);
  });

  it("refuses a length of 0", () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.concat([encodeFrame(1, Buffer.alloc(2)), header(0)]));
    assert.ok(decoder.next() !== null);
    assertLinkError(() => decoder.next(), "EMPTY_FRAME");
  });

  it("reports a stream that ends inside a frame", () => {
    const frame = encodeFrame(FrameType.Config, Buffer.from("{}"));
    for (const cut of [1, 4, 5, frame.length - 1]) {
      const decoder = new FrameDecoder();
      decoder.push(frame.subarray(0, cut));
      assert.equal(decoder.next(), null);
      assert.equal(decoder.bufferedBytes, cut);
      const error = assertLinkError(() => decoder.finish(), "TRUNCATED_FRAME");
      assert.match(error.message, new RegExp(`${cut} bytes received`));
    }
    const whole = new FrameDecoder();
    whole.push(frame);
    assert.ok(whole.next() !== null);
    whole.finish();
  });

  it("rejects a maxFrameLength that is not a positive u32", () => {
    assert.throws(() => new FrameDecoder(0), RangeError);
    assert.throws(() => new FrameDecoder(2 ** 32), RangeError);
  });

  it(`${FUZZ_RUNS} random and mutated streams in random chunks: frames or a LinkError, nothing else`, () => {
    const validStream = fc
      .array(arbitraryFrame, { minLength: 1, maxLength: 4 })
      .map((frames) => Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload))));
    let frames = 0;
    let errors = 0;
    fc.assert(
      fc.property(
        mutatedBytes(validStream),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 1, max: 400 }),
        (bytes, points, max) => {
          const decoder = new FrameDecoder(max);
          try {
            const decoded = decodeAll(decoder, split(Buffer.from(bytes), points));
            for (const frame of decoded) assert.ok(frame.payload.length + 1 <= max);
            frames += decoded.length;
            decoder.finish();
          } catch (error) {
            if (!(error instanceof LinkError)) throw error;
            assert.ok(["FRAME_TOO_LARGE", "EMPTY_FRAME", "TRUNCATED_FRAME"].includes(error.code));
            errors++;
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    // Each outcome in at least a tenth of the runs, or the mix only tests one path.
    assert.ok(
      frames > FUZZ_RUNS / 10 && errors > FUZZ_RUNS / 10,
      `${frames} frames, ${errors} errors: the mix is off`,
    );
  });
});
