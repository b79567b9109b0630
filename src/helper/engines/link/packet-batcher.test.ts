import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import fc from "fast-check";
import {
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_FRAME_LENGTH,
  MAX_PACKET_LENGTH,
  MIN_FRAME_LIMIT,
  decodePackets,
} from "../../../shared/link-protocol.js";
import { FrameDecoder } from "./frame-decoder.js";
import { PacketBatcher } from "./packet-batcher.js";

/** A fake stream: records every write, a snapshot of its bytes, and answers `writable`. */
class RecordingSink {
  readonly writes: Buffer[] = [];
  readonly snapshots: Buffer[] = [];
  writable = true;
  readonly write = (chunk: Buffer): boolean => {
    this.writes.push(chunk);
    this.snapshots.push(Buffer.from(chunk));
    return this.writable;
  };

  frames(maxFrameLength = MAX_FRAME_LENGTH): { type: number; payload: Buffer }[] {
    const decoder = new FrameDecoder(maxFrameLength);
    const frames = [];
    for (const chunk of this.writes) {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
      // Every write is whole frames: a reader never waits for the next write to finish one.
      assert.equal(decoder.bufferedBytes, 0, "a write ended inside a frame");
    }
    return frames;
  }

  packets(): Buffer[] {
    return this.frames()
      .filter((frame) => frame.type === FrameType.Packets)
      .flatMap((frame) => decodePackets(frame.payload).map((p) => Buffer.from(p)));
  }
}

function packetOf(size: number, seed: number): Buffer {
  const packet = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) packet[i] = (seed + i * 7) & 0xff;
  return packet;
}

describe("PacketBatcher", () => {
  it("a burst queued in one turn goes out as one PACKETS frame in ONE write", async () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write);
    const burst = Array.from({ length: 500 }, (_, i) => packetOf(1 + ((i * 97) % 1500), i));
    for (const packet of burst) assert.equal(batcher.addPacket(packet), "queued");
    assert.equal(sink.writes.length, 0, "nothing is written before the turn ends");
    await nextTurn();
    assert.equal(sink.writes.length, 1);
    const frames = sink.frames();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]?.type, FrameType.Packets);
    assert.deepEqual(sink.packets(), burst);
    assert.deepEqual(
      { ...batcher.counters },
      {
        writes: 1,
        framesOut: 1,
        bytesOut: sink.writes[0]?.length,
        packetsOut: 500,
        queueDrops: 0,
        rejectedPackets: 0,
      },
    );
  });

  it("splits a burst over the frame limit into full frames, each within the limit", async () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write, { maxFrameLength: MIN_FRAME_LIMIT });
    const burst = Array.from({ length: 300 }, (_, i) => packetOf(1000 + i, i));
    for (const packet of burst) batcher.addPacket(packet);
    await nextTurn();
    const frames = sink.frames(MIN_FRAME_LIMIT);
    assert.ok(frames.length >= Math.ceil((300 * 1150) / MIN_FRAME_LIMIT));
    for (const frame of frames) assert.ok(frame.payload.length + 1 <= MIN_FRAME_LIMIT);
    // Frames are filled: all but the last hold more than the limit minus one packet.
    for (const frame of frames.slice(0, -1)) assert.ok(frame.payload.length + 1 > MIN_FRAME_LIMIT - 1302);
    // A full frame is written at once; the rest at the end of the turn.
    assert.equal(sink.writes.length, frames.length);
    assert.deepEqual(sink.packets(), burst);
  });

  it("carries the largest packet, refuses empty and oversize ones", async () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write, { maxFrameLength: MIN_FRAME_LIMIT });
    const largest = packetOf(MAX_PACKET_LENGTH, 3);
    assert.equal(batcher.addPacket(Buffer.alloc(0)), "rejected");
    assert.equal(batcher.addPacket(Buffer.alloc(MAX_PACKET_LENGTH + 1)), "rejected");
    assert.equal(batcher.addPacket(largest), "queued");
    assert.equal(batcher.addPacket(largest), "queued");
    await nextTurn();
    assert.deepEqual(sink.packets(), [largest, largest]);
    assert.equal(sink.frames(MIN_FRAME_LIMIT).length, 2);
    assert.equal(batcher.counters.rejectedPackets, 2);
  });

  it("copies packets: the caller may reuse its buffer at once", async () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write);
    const reused = Buffer.from([1, 2, 3]);
    batcher.addPacket(reused);
    reused.fill(9);
    batcher.addPacket(reused);
    await nextTurn();
    assert.deepEqual(sink.packets(), [Buffer.from([1, 2, 3]), Buffer.from([9, 9, 9])]);
  });

  it("never modifies memory it has handed to the stream", async () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write, { maxFrameLength: MIN_FRAME_LIMIT });
    for (let turn = 0; turn < 50; turn++) {
      for (let i = 0; i < 40; i++) batcher.addPacket(packetOf(1 + ((turn * 131 + i * 977) % 9000), turn + i));
      batcher.addFrame(FrameType.Ping, Buffer.alloc(8, turn));
      await nextTurn();
    }
    assert.ok(sink.writes.length >= 50);
    sink.writes.forEach((chunk, index) =>
      assert.deepEqual(chunk, sink.snapshots[index], `write ${index} changed`),
    );
  });

  it("keeps control frames in order with packets", async () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write);
    batcher.addPacket(Buffer.from([1]));
    batcher.addFrame(FrameType.Stats, Buffer.from("{}"));
    batcher.addPacket(Buffer.from([2]));
    batcher.addPacket(Buffer.from([3]));
    await nextTurn();
    assert.equal(sink.writes.length, 1);
    const frames = sink.frames();
    assert.deepEqual(
      frames.map((f) => f.type),
      [FrameType.Packets, FrameType.Stats, FrameType.Packets],
    );
    assert.deepEqual(decodePackets(frames[2]?.payload ?? Buffer.alloc(0)), [
      Buffer.from([2]),
      Buffer.from([3]),
    ]);
  });

  it("while blocked: collects, drops beyond maxQueuedBytes, then flushes all in one write on drain", async () => {
    const sink = new RecordingSink();
    const maxQueuedBytes = 2 * MIN_FRAME_LIMIT + 100_000;
    const batcher = new PacketBatcher(sink.write, { maxFrameLength: MIN_FRAME_LIMIT, maxQueuedBytes });
    sink.writable = false;
    batcher.addPacket(packetOf(100, 1));
    await nextTurn();
    assert.equal(sink.writes.length, 1);
    assert.equal(batcher.blocked, true);

    const results = Array.from({ length: 400 }, (_, i) => batcher.addPacket(packetOf(1400, i)));
    await nextTurn();
    assert.equal(sink.writes.length, 1, "no writes while blocked");
    const queued = results.filter((r) => r === "queued").length;
    assert.ok(queued > 0 && queued < 400);
    assert.equal(batcher.counters.queueDrops, 400 - queued);
    assert.ok(batcher.pendingBytes <= maxQueuedBytes, `${batcher.pendingBytes} pending`);

    // Control frames still fit in the reserve above the packet limit.
    assert.equal(batcher.addFrame(FrameType.Pong, Buffer.alloc(8)), true);

    sink.writable = true;
    assert.equal(batcher.handleDrain(), true);
    assert.equal(sink.writes.length, 2);
    assert.equal(batcher.pendingBytes, 0);
    assert.equal(sink.packets().length, 1 + queued);
    assert.equal(sink.frames(MIN_FRAME_LIMIT).at(-1)?.type, FrameType.Pong);
  });

  it("stays consistent when the stream re-enters it from inside a write (a synchronous pipe)", async () => {
    const writes: Buffer[] = [];
    let echoes = 0;
    const batcher: PacketBatcher = new PacketBatcher(
      (chunk) => {
        writes.push(chunk);
        // An echo on the other end of an in-memory pipe answers before write() returns.
        echoes++;
        if (echoes <= 20) batcher.addPacket(packetOf(30_000, echoes));
        if (echoes <= 20 && echoes % 2 === 0) batcher.addFrame(FrameType.Pong, Buffer.alloc(8, echoes));
        return true;
      },
      { maxFrameLength: MIN_FRAME_LIMIT },
    );
    const sent = Array.from({ length: 40 }, (_, i) => packetOf(20_000 + i, 100 + i));
    for (const packet of sent) batcher.addPacket(packet);
    // Each echo is flushed in a later turn, where its write triggers the next echo.
    for (let turn = 0; turn < 100 && (echoes <= 20 || batcher.pendingBytes > 0); turn++) await nextTurn();
    const decoder = new FrameDecoder(MIN_FRAME_LIMIT);
    let packets = 0;
    let pongs = 0;
    for (const chunk of writes) {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
        if (frame.type === FrameType.Packets) packets += decodePackets(frame.payload).length;
        else if (frame.type === FrameType.Pong) pongs++;
        else assert.fail(`unexpected frame type ${frame.type}`);
      }
    }
    assert.equal(decoder.bufferedBytes, 0);
    assert.equal(packets, 40 + 20);
    assert.equal(pongs, 10);
  });

  it("force writes even while blocked (last frames of a link)", () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write);
    sink.writable = false;
    batcher.addFrame(FrameType.Hello, Buffer.alloc(7), true);
    batcher.flush();
    assert.equal(batcher.blocked, true);
    batcher.addFrame(FrameType.Bye, Buffer.from("bye"), true);
    batcher.flush();
    assert.equal(sink.writes.length, 1);
    batcher.flush(true);
    assert.equal(sink.writes.length, 2);
    assert.equal(sink.frames().at(-1)?.type, FrameType.Bye);
  });

  it("after close: nothing is accepted or written", async () => {
    const sink = new RecordingSink();
    const batcher = new PacketBatcher(sink.write);
    batcher.addPacket(Buffer.from([1]));
    batcher.close();
    assert.equal(batcher.addPacket(Buffer.from([2])), "dropped");
    assert.equal(batcher.addFrame(FrameType.Bye, Buffer.alloc(0), true), false);
    batcher.flush(true);
    await nextTurn();
    assert.equal(sink.writes.length, 0);
  });

  it("refuses a control frame over the limit and a limit too small for one packet", () => {
    const batcher = new PacketBatcher(() => true, { maxFrameLength: MIN_FRAME_LIMIT });
    assert.throws(() => batcher.addFrame(FrameType.Config, Buffer.alloc(MIN_FRAME_LIMIT)), RangeError);
    assert.throws(() => new PacketBatcher(() => true, { maxFrameLength: MIN_FRAME_LIMIT - 1 }), RangeError);
  });

  it("any sequence of packets, control frames, blocking and turns arrives intact and in order", async () => {
    type Op =
      | { kind: "packet"; size: number }
      | { kind: "control"; size: number }
      | { kind: "turn" }
      | { kind: "block" }
      | { kind: "drain" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 10,
        arbitrary: fc.integer({ min: 1, max: 20_000 }).map((size) => ({ kind: "packet" as const, size })),
      },
      {
        weight: 2,
        arbitrary: fc.integer({ min: 0, max: 3000 }).map((size) => ({ kind: "control" as const, size })),
      },
      { weight: 2, arbitrary: fc.constant({ kind: "turn" as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: "block" as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: "drain" as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 120 }), async (ops) => {
        const sink = new RecordingSink();
        const batcher = new PacketBatcher(sink.write, { maxFrameLength: MIN_FRAME_LIMIT, maxQueuedBytes: 0 });
        const expected: { type: number; bytes: Buffer }[] = [];
        let seed = 0;
        for (const step of ops) {
          if (step.kind === "packet") {
            const packet = packetOf(step.size, seed++);
            if (batcher.addPacket(packet) === "queued")
              expected.push({ type: FrameType.Packets, bytes: packet });
          } else if (step.kind === "control") {
            const payload = packetOf(step.size, seed++);
            if (batcher.addFrame(200, payload)) expected.push({ type: 200, bytes: payload });
          } else if (step.kind === "turn") {
            await nextTurn();
          } else if (step.kind === "block") {
            sink.writable = false;
          } else {
            sink.writable = true;
            batcher.handleDrain();
          }
          assert.ok(batcher.pendingBytes <= batcher.maxQueuedBytes + 64 * 1024 + FRAME_HEADER_BYTES + 3000);
        }
        sink.writable = true;
        batcher.handleDrain();
        const received = sink
          .frames(MIN_FRAME_LIMIT)
          .flatMap((frame) =>
            frame.type === FrameType.Packets
              ? decodePackets(frame.payload).map((p) => ({ type: FrameType.Packets, bytes: Buffer.from(p) }))
              : [{ type: frame.type, bytes: Buffer.from(frame.payload) }],
          );
        assert.deepEqual(received, expected);
      }),
      { numRuns: 150 },
    );
  });
});
