// Tests of the STREAM_* frames' wire format (src/shared/stream-frames.ts): round trips, the strict
// checks of every field, and fuzzing of the decoder.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Capability, LinkError } from "../../../shared/link-protocol.js";
import { STREAM_MAX_DATA, StreamFrameType, StreamStatus } from "../../../shared/link-streams.js";
import {
  decodeStreamFrame,
  encodeStreamFrame,
  isStreamFrameType,
  streamIdOf,
  type StreamFrame,
} from "../../../shared/stream-frames.js";
import { FUZZ_RUNS } from "../fuzz-runs.js";
import { mutatedBytes } from "./test-arbitraries.js";

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const statuses = Object.values(StreamStatus);
const ipv4 = fc.ipV4();
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(":");
});
/** Names as a proxy gets them: DNS-ish labels, some with non-ASCII letters. */
const name = fc
  .array(fc.stringMatching(/^[a-z0-9é-]{1,20}$/), { minLength: 1, maxLength: 5 })
  .map((labels) => labels.join("."));

function arbitraryFrame(): fc.Arbitrary<StreamFrame> {
  return fc.oneof(
    fc.record({
      type: fc.constant("open" as const),
      id: u32,
      target: fc.oneof(
        fc.record({
          kind: fc.constant("address" as const),
          address: fc.oneof(ipv4, ipv6),
          port: fc.nat(0xffff),
        }),
        fc.record({ kind: fc.constant("name" as const), name, port: fc.nat(0xffff) }),
      ),
    }),
    fc.record({
      type: fc.constant("opened" as const),
      id: u32,
      status: fc.constant(StreamStatus.Ok),
      address: fc.oneof(ipv4, ipv6),
    }),
    fc.record({
      type: fc.constant("opened" as const),
      id: u32,
      status: fc.constantFrom(...statuses.filter((s) => s !== StreamStatus.Ok)),
      address: fc.constant(null),
    }),
    fc.record({
      type: fc.constant("data" as const),
      id: u32,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
    }),
    fc.record({ type: fc.constant("credit" as const), id: u32, bytes: u32 }),
    fc.record({ type: fc.constant("end" as const), id: u32 }),
    fc.record({ type: fc.constant("reset" as const), id: u32, status: fc.constantFrom(...statuses) }),
  );
}

/** Addresses come back in their shortest form: compare through it. */
function normalised(frame: StreamFrame): StreamFrame {
  const { type, payload } = encodeStreamFrame(frame);
  return decodeStreamFrame(type, payload);
}

function assertMalformed(type: number, payload: Buffer, part: string): void {
  assert.throws(
    () => decodeStreamFrame(type, payload),
    (error: unknown) =>
      error instanceof LinkError && error.code === "MALFORMED_PAYLOAD" && error.message.includes(part),
  );
}

function frame(type: number, ...parts: Array<number[] | Buffer>): [number, Buffer] {
  return [type, Buffer.concat(parts.map((part) => Buffer.from(part)))];
}

const ID = [0, 0, 0, 7];

describe("stream frames", () => {
  it("Streams is a capability bit of its own", () => {
    const others = Object.entries(Capability).filter(([key]) => key !== "Streams");
    for (const [, bit] of others) assert.equal(bit & Capability.Streams, 0);
    assert.equal(isStreamFrameType(StreamFrameType.Open), true);
    assert.equal(isStreamFrameType(StreamFrameType.Reset), true);
    assert.equal(isStreamFrameType(15), false);
    assert.equal(isStreamFrameType(22), false);
  });

  it("every frame survives a round trip, and its id is readable even undecoded", () => {
    fc.assert(
      fc.property(arbitraryFrame(), (original) => {
        const once = normalised(original);
        const { type, payload } = encodeStreamFrame(once);
        assert.deepEqual(decodeStreamFrame(type, payload), once);
        assert.equal(streamIdOf(payload), original.id);
        assert.equal(once.type, original.type);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps names and the edges of every integer as sent", () => {
    const cases: StreamFrame[] = [
      { type: "open", id: 0, target: { kind: "name", name: "s.test", port: 0 } },
      { type: "open", id: 0xffffffff, target: { kind: "name", name: "bücher.test", port: 65535 } },
      { type: "open", id: 1, target: { kind: "name", name: "a".repeat(255), port: 80 } },
      { type: "open", id: 1, target: { kind: "address", address: "2001:db8::1", port: 443 } },
      { type: "credit", id: 3, bytes: 0 },
      { type: "credit", id: 3, bytes: 0xffffffff },
      { type: "data", id: 3, bytes: Buffer.alloc(STREAM_MAX_DATA, 1) },
    ];
    for (const original of cases) assert.deepEqual(normalised(original), original);
  });

  it("refuses to encode what the format cannot carry", () => {
    const open = (target: StreamFrame & { type: "open" }) => () => encodeStreamFrame(target);
    assert.throws(open({ type: "open", id: 1, target: { kind: "name", name: "", port: 1 } }), RangeError);
    assert.throws(
      open({ type: "open", id: 1, target: { kind: "name", name: "a".repeat(256), port: 1 } }),
      RangeError,
    );
    assert.throws(
      open({ type: "open", id: 1, target: { kind: "address", address: "s.test", port: 1 } }),
      RangeError,
    );
    assert.throws(
      open({ type: "open", id: 1, target: { kind: "address", address: "1.2.3.4", port: 65536 } }),
      RangeError,
    );
    assert.throws(() => encodeStreamFrame({ type: "end", id: 2 ** 32 }), RangeError);
    assert.throws(() => encodeStreamFrame({ type: "data", id: 1, bytes: Buffer.alloc(0) }), RangeError);
    assert.throws(
      () => encodeStreamFrame({ type: "data", id: 1, bytes: Buffer.alloc(STREAM_MAX_DATA + 1) }),
      RangeError,
    );
    assert.throws(
      () => encodeStreamFrame({ type: "opened", id: 1, status: StreamStatus.Ok, address: null }),
      RangeError,
    );
  });

  const { Open, Opened, Data, Credit, End, Reset } = StreamFrameType;
  const malformedCases: Array<[string, [number, Buffer], string]> = [
    ["OPEN too short", frame(Open, ID, [0, 80, 1]), "too short"],
    ["OPEN IPv4 of 3 bytes", frame(Open, ID, [0, 80, 1], [1, 2, 3]), "IPv4 address of 3 bytes"],
    ["OPEN IPv4 of 5 bytes", frame(Open, ID, [0, 80, 1], [1, 2, 3, 4, 5]), "IPv4 address of 5 bytes"],
    ["OPEN IPv6 of 15 bytes", frame(Open, ID, [0, 80, 4], Buffer.alloc(15)), "IPv6 address of 15 bytes"],
    ["OPEN unknown host type", frame(Open, ID, [0, 80, 2], [1, 2, 3, 4]), "unknown host type 2"],
    ["OPEN name of 256 bytes", frame(Open, ID, [0, 80, 3], Buffer.alloc(256, 0x61)), "over 255"],
    ["OPEN name not UTF-8", frame(Open, ID, [0, 80, 3], [0x61, 0xff, 0x62]), "not UTF-8"],
    ["OPEN name with a NUL", frame(Open, ID, [0, 80, 3], [0x61, 0x00, 0x62]), "control"],
    ["OPEN name with a space", frame(Open, ID, [0, 80, 3], Buffer.from("a b")), "control"],
    ["OPENED without status", frame(Opened, ID), "too short"],
    ["OPENED Ok without address", frame(Opened, ID, [0]), "unknown address family"],
    ["OPENED Ok family 5", frame(Opened, ID, [0, 5, 1, 2, 3, 4]), "unknown address family 5"],
    ["OPENED Ok v4 short", frame(Opened, ID, [0, 4, 1, 2, 3]), "expected"],
    ["OPENED refusal with an address", frame(Opened, ID, [5, 4, 1, 2, 3, 4]), "expected 5"],
    ["DATA empty", frame(Data, ID), "expected 5"],
    ["DATA over the limit", frame(Data, ID, Buffer.alloc(STREAM_MAX_DATA + 1)), "expected 5"],
    ["DATA without id", frame(Data, [0, 0]), "expected 5"],
    ["CREDIT short", frame(Credit, ID, [0, 0, 1]), "expected 8"],
    ["CREDIT long", frame(Credit, ID, [0, 0, 0, 0, 1]), "expected 8"],
    ["END with a byte", frame(End, ID, [0]), "expected 4"],
    ["RESET without status", frame(Reset, ID), "expected 5"],
    ["not a stream frame", frame(3, ID), "not a stream frame"],
  ];
  for (const [title, [type, payload], part] of malformedCases) {
    it(`malformed: ${title}`, () => assertMalformed(type, payload, part));
  }

  it("a status this version does not know ends the stream as a general failure", () => {
    assert.deepEqual(decodeStreamFrame(Reset, Buffer.from([0, 0, 0, 9, 200])), {
      type: "reset",
      id: 9,
      status: StreamStatus.GeneralFailure,
    });
    assert.deepEqual(decodeStreamFrame(Opened, Buffer.from([0, 0, 0, 9, 99])), {
      type: "opened",
      id: 9,
      status: StreamStatus.GeneralFailure,
      address: null,
    });
  });

  it(`${FUZZ_RUNS} random and mutated payloads: the decoder returns or throws a LinkError`, () => {
    const valid = arbitraryFrame().map((f) => encodeStreamFrame(f).payload);
    let decoded = 0;
    fc.assert(
      fc.property(fc.integer({ min: Open, max: Reset }), mutatedBytes(valid), (type, bytes) => {
        try {
          decodeStreamFrame(type, Buffer.from(bytes));
          decoded++;
        } catch (error) {
          if (!(error instanceof LinkError)) throw error;
          assert.equal(error.code, "MALFORMED_PAYLOAD");
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
    assert.ok(decoded > FUZZ_RUNS / 20, `only ${decoded} successful decodes`);
  });
});
