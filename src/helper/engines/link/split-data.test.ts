// A STREAM_DATA frame that straddles the link's reads (nearly every full one does: reads are
// 64 KiB, as large as the frame's data) reaches the stream in its pieces, views into the reads,
// never copied; the credit is checked for the frame as a whole; an END after it still half-closes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FUZZ_RUNS } from "../fuzz-runs.js";
import {
  encodeFrame,
  encodeHello,
  FrameType,
  PROTOCOL_VERSION,
  Capability,
} from "../../../shared/link-protocol.js";
import {
  STREAM_MAX_DATA,
  StreamFrameType,
  StreamStatus,
  type LinkStream,
} from "../../../shared/link-streams.js";
import { decodeStreamFrame, encodeStreamFrame, type StreamFrame } from "../../../shared/stream-frames.js";
import { until } from "../../../shared/test-until.js";
import { DEFAULT_STREAM_WINDOW_BYTES, LinkStreamOpener } from "../streams/stream-opener.js";
import { FrameDecoder, isSplitFrame } from "./frame-decoder.js";
import { Link, type StreamFrameHandler } from "./link.js";
import { createMemoryPipe } from "./memory-pipe.js";

const dataFrame = (id: number, bytes: Buffer): Buffer => {
  const { type, payload } = encodeStreamFrame({ type: "data", id, bytes });
  return encodeFrame(type, payload);
};

const pattern = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff));

/**
 * Copies of `wire`'s pieces cut at `cuts`: each its own allocation (Buffer.alloc, never Node's
 * shared pool), so a view can be traced to it.
 */
function cut(wire: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...cuts, wire.length];
  return points.slice(1).map((end, i) => {
    const piece = Buffer.alloc(end - points[i]!);
    wire.copy(piece, 0, points[i], end);
    return piece;
  });
}

const isViewInto = (part: Buffer, chunks: readonly Buffer[]): boolean =>
  chunks.some((chunk) => chunk.buffer === part.buffer);

describe("FrameDecoder: frames kept split", () => {
  const keepData = (type: number): boolean => type === StreamFrameType.Data;

  it("returns a straddling STREAM_DATA as views into the chunks, and copies other types", () => {
    const data = pattern(STREAM_MAX_DATA);
    const wire = dataFrame(9, data);
    // Cut inside the length field, right after the type byte, and inside the data.
    const chunks = cut(wire, [2, 5, 40_000]);
    const decoder = new FrameDecoder();
    const got = [];
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let frame = decoder.nextOrSplit(keepData); frame !== null; frame = decoder.nextOrSplit(keepData))
        got.push(frame);
    }
    assert.equal(got.length, 1);
    const frame = got[0]!;
    assert.ok(isSplitFrame(frame), "kept split");
    assert.equal(frame.type, StreamFrameType.Data);
    assert.equal(frame.length, 4 + data.length);
    for (const part of frame.parts) {
      assert.ok(part.length > 0, "no empty part");
      assert.ok(isViewInto(part, chunks), "a view into a pushed chunk, not a copy");
    }
    assert.deepEqual(Buffer.concat(frame.parts), wire.subarray(5));

    const ping = encodeFrame(FrameType.Ping, Buffer.alloc(8, 1));
    const pingChunks = cut(ping, [6]);
    for (const chunk of pingChunks) decoder.push(chunk);
    const whole = decoder.nextOrSplit(keepData);
    assert.ok(whole !== null && !isSplitFrame(whole), "a type not kept split is joined");
    assert.ok(!isViewInto(whole.payload, pingChunks), "by a copy");
    assert.deepEqual(whole.payload, Buffer.alloc(8, 1));
  });

  it("yields the frames that were written, however the stream is cut (split or whole)", () => {
    const frameArb = fc.tuple(
      fc.constantFrom(StreamFrameType.Data, FrameType.Packets, FrameType.Ping),
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
    );
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, points) => {
          const wire = Buffer.concat(frames.map(([type, bytes]) => encodeFrame(type, bytes)));
          const cuts = [...new Set(points.map((p) => p % (wire.length + 1)))].sort((a, b) => a - b);
          const decoder = new FrameDecoder();
          const got: Array<[number, Buffer]> = [];
          for (const chunk of cut(wire, cuts)) {
            decoder.push(chunk);
            for (
              let frame = decoder.nextOrSplit(keepData);
              frame !== null;
              frame = decoder.nextOrSplit(keepData)
            ) {
              if (isSplitFrame(frame)) {
                assert.equal(frame.type, StreamFrameType.Data, "only the type kept split comes split");
                assert.ok(frame.parts.every((part) => part.length > 0));
                got.push([frame.type, Buffer.concat(frame.parts, frame.length)]);
              } else got.push([frame.type, Buffer.from(frame.payload)]);
            }
          }
          assert.deepEqual(
            got,
            frames.map(([type, bytes]) => [type, Buffer.from(bytes)]),
          );
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("next() joins a frame that nextOrSplit began split; the decoder counts the views it holds", () => {
    const wire = dataFrame(3, pattern(1000));
    const [a, b] = cut(wire, [300]);
    const decoder = new FrameDecoder();
    decoder.push(a!);
    assert.equal(decoder.nextOrSplit(keepData), null);
    assert.equal(decoder.retainedBytes, 300 - 4, "the first part's view, past the length field");
    assert.equal(decoder.bufferedBytes, 300);
    decoder.push(b!);
    const frame = decoder.next();
    assert.ok(frame !== null && !isSplitFrame(frame));
    assert.deepEqual(frame.payload, wire.subarray(5));
    assert.equal(decoder.bufferedBytes, 0);
    decoder.finish();
  });
});

/** An exit played by hand (raw frames), with the real entrance Link and LinkStreamOpener. */
async function entranceAgainstRawExit(): Promise<{
  link: Link;
  opener: LinkStreamOpener;
  writeRaw: (bytes: Buffer) => void;
  received: StreamFrame[];
  /** The raw side read the entrance's end (after its BYE): every frame it sent is in `received`. */
  rawEnded: Promise<void>;
}> {
  const [raw, entranceEnd] = createMemoryPipe();
  const link = new Link(entranceEnd, {
    role: "entrance",
    softwareVersion: "test",
    capabilities: Capability.Streams,
  });
  const opener = new LinkStreamOpener(link);
  const received: StreamFrame[] = [];
  const peer = new FrameDecoder();
  raw.on("data", (chunk: Buffer) => {
    peer.push(chunk);
    for (let frame = peer.next(); frame !== null; frame = peer.next()) {
      if (frame.type >= StreamFrameType.Open && frame.type <= StreamFrameType.Reset) {
        received.push(decodeStreamFrame(frame.type, Buffer.from(frame.payload)));
      }
    }
  });
  raw.write(
    encodeFrame(
      FrameType.Hello,
      encodeHello({
        version: PROTOCOL_VERSION,
        role: "exit",
        capabilities: Capability.Streams,
        softwareVersion: "raw",
      }),
    ),
  );
  await link.ready;
  const rawEnded = new Promise<void>((resolve) => raw.once("end", resolve));
  return { link, opener, writeRaw: (bytes) => void raw.write(bytes), received, rawEnded };
}

async function openStream(
  opener: LinkStreamOpener,
  writeRaw: (bytes: Buffer) => void,
  received: StreamFrame[],
): Promise<LinkStream> {
  const opening = opener.open({ kind: "address", address: "198.18.0.1", port: 80 });
  await until(() => received.some((frame) => frame.type === "open"));
  const open = received.find((frame) => frame.type === "open")!;
  const { type, payload } = encodeStreamFrame({
    type: "opened",
    id: open.id,
    status: StreamStatus.Ok,
    address: "198.18.0.1",
  });
  writeRaw(encodeFrame(type, payload));
  return opening;
}

describe("Link and LinkStreamOpener: STREAM_DATA split across reads", () => {
  it("hands the stream the reads' own bytes, then the END half-closes and writes still go out", async () => {
    const { link, opener, writeRaw, received } = await entranceAgainstRawExit();
    const stream = await openStream(opener, writeRaw, received);
    const parts: Buffer[] = [];
    let ended = false;
    stream.onData((bytes) => {
      parts.push(bytes);
      stream.consumed(bytes.length);
    });
    stream.onEnd(() => (ended = true));
    const data = pattern(STREAM_MAX_DATA);
    // Cut inside the id (2 bytes into the payload) and inside the data.
    const chunks = cut(dataFrame(stream.id, data), [7, 30_000]);
    const framesBefore = link.counters.framesIn;
    for (const chunk of chunks) writeRaw(chunk);
    const { type, payload } = encodeStreamFrame({ type: "end", id: stream.id });
    writeRaw(encodeFrame(type, payload));
    await until(() => ended);
    assert.deepEqual(Buffer.concat(parts), data, "every byte, in order");
    assert.ok(parts.length >= 2, "in pieces");
    for (const part of parts)
      assert.ok(isViewInto(part, chunks), "each piece a view into a read: not copied");
    assert.equal(link.counters.framesIn - framesBefore, 2, "one DATA frame and one END, counted as frames");
    // Half-close: the destination ended, this side may still send.
    assert.equal(stream.write(Buffer.from("after the end")), true);
    await until(() => received.some((frame) => frame.type === "data"));
    const sent = received.find((frame) => frame.type === "data");
    assert.ok(sent?.type === "data");
    assert.equal(sent.bytes.toString(), "after the end");
    assert.equal(opener.openCount, 1, "open until this side ends too");
    link.close();
  });

  it("checks the credit for the split frame as a whole: one RESET, nothing handed on", async () => {
    const { link, opener, writeRaw, received, rawEnded } = await entranceAgainstRawExit();
    const stream = await openStream(opener, writeRaw, received);
    const parts: Buffer[] = [];
    let closedWith: StreamStatus | null = null;
    stream.onData((bytes) => parts.push(bytes)); // never consumed: no credit comes back
    stream.onClose((status) => (closedWith = status));
    const window = DEFAULT_STREAM_WINDOW_BYTES;
    // Fill the window in whole frames, then one split frame past it.
    for (let sent = 0; sent < window; sent += STREAM_MAX_DATA)
      writeRaw(dataFrame(stream.id, pattern(STREAM_MAX_DATA)));
    const overflow = cut(dataFrame(stream.id, pattern(STREAM_MAX_DATA)), [1000]);
    for (const chunk of overflow) writeRaw(chunk);
    await until(() => closedWith !== null);
    assert.equal(closedWith, StreamStatus.ProtocolError);
    assert.equal(Buffer.concat(parts).length, window, "the frame past the credit is not handed on at all");
    link.close();
    await rawEnded;
    const resets = received.filter((frame) => frame.type === "reset");
    assert.deepEqual(
      resets,
      [{ type: "reset", id: stream.id, status: StreamStatus.ProtocolError }],
      "reset once, not once per piece",
    );
  });
});

describe("Link: a handler without dataParts", () => {
  it("gets a split STREAM_DATA joined, through frame()", async () => {
    const [raw, exitEnd] = createMemoryPipe();
    raw.resume();
    const exit = new Link(exitEnd, { role: "exit", softwareVersion: "test" });
    const frames: StreamFrame[] = [];
    const handler: StreamFrameHandler = {
      frame: (frame) =>
        frames.push(frame.type === "data" ? { ...frame, bytes: Buffer.from(frame.bytes) } : frame),
      malformed: () => assert.fail("not malformed"),
    };
    exit.setStreamHandler(handler);
    raw.write(
      encodeFrame(
        FrameType.Hello,
        encodeHello({ version: PROTOCOL_VERSION, role: "entrance", capabilities: 0, softwareVersion: "raw" }),
      ),
    );
    await exit.ready;
    const data = pattern(5000);
    for (const chunk of cut(dataFrame(4, data), [3000])) raw.write(chunk);
    await until(() => frames.length === 1);
    assert.deepEqual(frames, [{ type: "data", id: 4, bytes: data }]);
    exit.close();
    raw.end();
  });
});
