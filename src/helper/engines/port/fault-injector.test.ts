import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { FaultInjector, type FaultRates } from "./fault-injector.js";
import { RecordingPort } from "./testing.js";

/** Packets 1..n, each its number in a 4-byte buffer. */
function numbered(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const packet = Buffer.alloc(4);
    packet.writeUInt32BE(i + 1);
    return packet;
  });
}
const numbers = (packets: Buffer[]): number[] => packets.map((p) => p.readUInt32BE(0));

function injector(rates: Partial<FaultRates>, seed = 7) {
  const inner = new RecordingPort();
  const faults = new FaultInjector(inner, { seed, rates, delayMs: 5 });
  const received: Buffer[] = [];
  faults.onPackets((packets) => received.push(...packets.map((p) => Buffer.from(p))));
  return { inner, faults, received };
}

test("without faults, packets pass in order both ways and sendWith builds in place", () => {
  const { inner, faults, received } = injector({});
  faults.sendAll(numbered(3));
  faults.sendWith(4, (target, offset) => target.writeUInt32BE(4, offset));
  inner.receive(numbered(2));
  assert.deepEqual(numbers(inner.sent), [1, 2, 3, 4]);
  assert.deepEqual(numbers(received), [1, 2]);
  assert.equal(faults.counts.outbound.packets, 4);
  assert.equal(faults.counts.inbound.packets, 2);
});

test("loss drops at its rate, and the same seed drops the same packets", () => {
  const run = (seed: number): number[] => {
    const { inner, faults } = injector({ loss: 0.05 }, seed);
    faults.sendAll(numbered(20_000));
    assert.equal(faults.counts.outbound.lost, 20_000 - inner.sent.length);
    return numbers(inner.sent);
  };
  const first = run(42);
  const lost = 20_000 - first.length;
  assert.ok(lost > 800 && lost < 1200, `5 % of 20,000 is about 1,000 lost, got ${lost}`);
  assert.deepEqual(run(42), first);
  assert.notDeepEqual(run(43), first);
});

test("reordering lets the next packet overtake a held one", () => {
  const { inner, faults } = injector({ reorder: 1 });
  faults.sendAll(numbered(4));
  assert.deepEqual(numbers(inner.sent), [2, 1, 4, 3]);
  assert.equal(faults.counts.outbound.reordered, 2);
});

test("a held packet that nothing overtakes leaves after the delay", async () => {
  const { inner, faults } = injector({ reorder: 1 });
  faults.send(numbered(1)[0]!);
  assert.deepEqual(inner.sent, []);
  await sleep(50);
  assert.deepEqual(numbers(inner.sent), [1]);
  assert.equal(faults.counts.outbound.delayed, 1);
  assert.equal(faults.counts.outbound.reordered, 0);
});

test("duplication sends each packet twice; delay sends it later, not in the same call", async () => {
  const twice = injector({ duplicate: 1 });
  twice.faults.sendAll(numbered(2));
  assert.deepEqual(numbers(twice.inner.sent), [1, 1, 2, 2]);

  const late = injector({ delay: 1 });
  late.inner.receive(numbered(2));
  assert.deepEqual(late.received, []);
  await sleep(50);
  assert.deepEqual(numbers(late.received).sort(), [1, 2]);
  assert.equal(late.faults.counts.inbound.delayed, 2);
});

test("corruption flips one bit of a copy; the sender's buffer is untouched", () => {
  const { inner, faults } = injector({ corrupt: 1 });
  const original = Buffer.alloc(64, 0x55);
  faults.send(original);
  assert.deepEqual(original, Buffer.alloc(64, 0x55));
  const sent = inner.sent[0]!;
  let flipped = 0;
  for (let i = 0; i < sent.length; i++) {
    let diff = sent[i]! ^ 0x55;
    for (; diff; diff &= diff - 1) flipped++;
  }
  assert.equal(flipped, 1);
});

test("a sendWith packet that meets a fault is built apart and sent like any other", () => {
  const { inner, faults } = injector({ duplicate: 1 });
  faults.sendWith(4, (target, offset) => target.writeUInt32BE(9, offset));
  assert.deepEqual(numbers(inner.sent), [9, 9]);
});

test("describe names every rate and the seed, for replay", () => {
  const { faults } = injector({ loss: 0.01, reorder: 0.05 }, 1234);
  assert.equal(
    faults.describe(),
    "faults: loss 1.0%, reorder 5.0%, duplicate 0.0%, delay 0.0%, corrupt 0.0%, delay 5 ms, seed 1234",
  );
  assert.throws(() => injector({ loss: 2 }), /loss must be from 0 to 1/);
});
