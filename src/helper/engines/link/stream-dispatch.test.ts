// The Link hands STREAM_* frames to the role's handler, decoded, and counts what does not decode;
// without a handler it skips them as frames of an unknown type.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  encodeFrame,
  encodeHello,
  FrameType,
  LinkError,
  PROTOCOL_VERSION,
} from "../../../shared/link-protocol.js";
import { StreamFrameType, StreamStatus } from "../../../shared/link-streams.js";
import type { StreamFrame } from "../../../shared/stream-frames.js";
import { until } from "../test-until.js";
import { Link, type StreamFrameHandler } from "./link.js";
import { createMemoryPipe } from "./memory-pipe.js";

async function linkedPair(): Promise<[Link, Link]> {
  const [a, b] = createMemoryPipe();
  const entrance = new Link(a, { role: "entrance", softwareVersion: "test" });
  const exit = new Link(b, { role: "exit", softwareVersion: "test" });
  await Promise.all([entrance.ready, exit.ready]);
  return [entrance, exit];
}

function recorder(): StreamFrameHandler & { frames: StreamFrame[]; malformedIds: Array<number | null> } {
  const frames: StreamFrame[] = [];
  const malformedIds: Array<number | null> = [];
  return {
    frames,
    malformedIds,
    frame: (frame) =>
      frames.push(frame.type === "data" ? { ...frame, bytes: Buffer.from(frame.bytes) } : frame),
    malformed: (id, error) => {
      assert.ok(error instanceof LinkError);
      malformedIds.push(id);
    },
  };
}

describe("Link: stream frames", () => {
  it("delivers every stream frame, in order, to the handler", async () => {
    const [entrance, exit] = await linkedPair();
    const handler = recorder();
    exit.setStreamHandler(handler);
    const sent: StreamFrame[] = [
      { type: "open", id: 1, target: { kind: "name", name: "s.test", port: 80 } },
      { type: "data", id: 1, bytes: Buffer.from("hello") },
      { type: "credit", id: 1, bytes: 1000 },
      { type: "end", id: 1 },
      { type: "reset", id: 2, status: StreamStatus.Refused },
    ];
    for (const frame of sent) assert.equal(entrance.sendStreamFrame(frame), true);
    await until(() => handler.frames.length === sent.length);
    assert.deepEqual(handler.frames, sent);
    entrance.close();
    exit.close();
  });

  it("counts a malformed stream frame, tells the handler its id, and stays open", async () => {
    // The entrance is played by hand, so that it can send what no encoder would.
    const [raw, exitEnd] = createMemoryPipe();
    raw.resume();
    const exit = new Link(exitEnd, { role: "exit", softwareVersion: "test" });
    const handler = recorder();
    exit.setStreamHandler(handler);
    const writeRaw = (type: number, payload: Uint8Array) => raw.write(encodeFrame(type, payload));
    writeRaw(
      FrameType.Hello,
      encodeHello({ version: PROTOCOL_VERSION, role: "entrance", capabilities: 0, softwareVersion: "raw" }),
    );
    await exit.ready;
    writeRaw(StreamFrameType.Credit, Buffer.from([0, 0, 0, 5, 1]));
    writeRaw(StreamFrameType.End, Buffer.from([0, 0]));
    await until(() => handler.malformedIds.length === 2);
    assert.deepEqual(handler.malformedIds, [5, null]);
    assert.equal(exit.counters.malformedFrames, 2);
    assert.equal(exit.isOpen, true);
    exit.close();
    raw.end();
  });

  it("without a handler, stream frames are skipped as unknown", async () => {
    const [entrance, exit] = await linkedPair();
    entrance.sendStreamFrame({ type: "end", id: 1 });
    await until(() => exit.counters.unknownFrames === 1);
    assert.equal(exit.isOpen, true);
    entrance.close();
    exit.close();
  });
});
