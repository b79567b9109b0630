// Random sequences of stream frames, valid and mutated, from an entrance to the exit's stream
// forwarder: whatever arrives, the exit never throws, counts no internal error, keeps its link
// open, and still opens a stream afterwards.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { Capability, encodeFrame } from "../../../shared/link-protocol.js";
import { StreamFrameType, StreamStatus } from "../../../shared/link-streams.js";
import { encodeStreamFrame, type StreamFrame } from "../../../shared/stream-frames.js";
import { Link } from "../link/link.js";
import { createMemoryPipe } from "../link/memory-pipe.js";
import { mutatedBytes } from "../link/test-arbitraries.js";
import { CapturingOutput } from "../nat/capturing-output.js";
import { EgressPolicy } from "../nat/egress-policy.js";
import { NatEngine } from "../nat/engine.js";
import { until } from "../test-until.js";
import { tcpServer } from "./test-world.js";

const server = await tcpServer();
after(() => server.close());

function wire(f: StreamFrame): Buffer {
  const { type, payload } = encodeStreamFrame(f);
  return encodeFrame(type, payload);
}

/** Few ids, so that frames meet the streams other frames opened. */
const id = fc.constantFrom(0, 1, 2, 0xffffffff);
const target = fc.oneof(
  fc.constant({ kind: "address" as const, address: "127.0.0.1", port: server.port }),
  fc.constant({ kind: "address" as const, address: "127.0.0.1", port: 0 }),
  fc.constant({ kind: "address" as const, address: "2001:db8::1", port: 80 }),
  fc.constant({ kind: "name" as const, name: "nowhere.test", port: 80 }),
);
const frame: fc.Arbitrary<StreamFrame> = fc.oneof(
  fc.record({ type: fc.constant("open" as const), id, target }),
  fc.record({
    type: fc.constant("data" as const),
    id,
    bytes: fc.integer({ min: 1, max: 70_000 }).map((size) => Buffer.alloc(Math.min(size, 65536), 7)),
  }),
  fc.record({ type: fc.constant("credit" as const), id, bytes: fc.constantFrom(0, 1, 65536, 0xffffffff) }),
  fc.record({ type: fc.constant("end" as const), id }),
  fc.record({
    type: fc.constant("reset" as const),
    id,
    status: fc.constantFrom(...Object.values(StreamStatus)),
  }),
  fc.record({
    type: fc.constant("opened" as const),
    id,
    status: fc.constant(StreamStatus.Refused),
    address: fc.constant(null),
  }),
);
/** A frame as bytes on the stream: encoded, or its payload mutated. */
const wireFrame = fc.oneof(
  frame.map(wire),
  fc
    .tuple(
      fc.integer({ min: StreamFrameType.Open, max: StreamFrameType.Reset }),
      mutatedBytes(frame.map((f) => encodeStreamFrame(f).payload)),
    )
    .map(([type, payload]) => encodeFrame(type, payload)),
);

describe("the exit's stream forwarder under random frames", () => {
  it("never stops: no throw, no internal error, the link stays open, a new stream still opens", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wireFrame, { minLength: 1, maxLength: 30 }), async (frames) => {
        const [raw, exitEnd] = createMemoryPipe({ highWaterMark: 4 * 1024 * 1024 });
        const exit = new Link(exitEnd, {
          role: "exit",
          softwareVersion: "test",
          capabilities: Capability.Streams,
        });
        const nat = new NatEngine({
          output: new CapturingOutput(),
          policy: new EgressPolicy({ prefixes: [], allowLocal: true, localAddresses: () => [] }),
          linkMtu: 1500,
        });
        const forwarder = nat.attachStreams(exit, { resolve: undefined, entranceAddress: "198.18.0.1" });
        const entrance = new Link(raw, {
          role: "entrance",
          softwareVersion: "fuzz",
          capabilities: Capability.Streams,
        });
        const answers: StreamFrame[] = [];
        entrance.setStreamHandler({ frame: (f) => answers.push(f), malformed: () => undefined });
        await Promise.all([exit.ready, entrance.ready]);
        for (const bytes of frames) raw.write(bytes);
        raw.write(
          wire({
            type: "open",
            id: 1000,
            target: { kind: "address", address: "127.0.0.1", port: server.port },
          }),
        );
        await until(
          () => answers.some((f) => f.id === 1000 && f.type === "opened"),
          5_000,
          "the last open's answer",
        );
        assert.equal(exit.isOpen, true);
        assert.equal(nat.counters.internalErrors, 0);
        const opened = answers.find((f) => f.id === 1000 && f.type === "opened");
        assert.equal(opened?.type === "opened" && opened.status, StreamStatus.Ok);
        entrance.close();
        await exit.closed;
        assert.equal(forwarder.streamCount, 0);
      }),
      { numRuns: 100 },
    );
  });
});
