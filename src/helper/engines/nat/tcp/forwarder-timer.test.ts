// The forwarder's timers. Its one flow timer follows the flows' earliest deadline: an idle flow
// does not wake the process (a periodic tick woke it 50 times a second while any flow was open),
// and a deadline that comes sooner — a retransmission — still fires on time. ACKs for in-order
// data wait up to ACK_DELAY_MS for a reply to ride on. Mocked timers and clock.
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { TcpFlag } from "../../packet/index.js";
import type { FlowPeer, FlowPeerEvents } from "./flow-peer.js";
import { ACK_DELAY_MS } from "./forwarder.js";
import { forwarderRig } from "./test-forwarder.js";

const { SYN, ACK, FIN } = TcpFlag;

/** A destination that takes everything and sends only when told. */
class QuietPeer implements FlowPeer {
  readonly buffered = 0;
  constructor(readonly events: FlowPeerEvents) {}
  write(): void {}
  end(): void {}
  pause(): void {}
  resume(): void {}
  localName(): string {
    return "quiet";
  }
  release(): void {}
}

let wakeups = 0;

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
  // Count every timer callback the code under test gets to run.
  wakeups = 0;
  for (const name of ["setTimeout", "setInterval"] as const) {
    const mocked = globalThis[name];
    mock.method(globalThis, name, (callback: () => void, ms?: number) =>
      mocked(() => {
        wakeups++;
        callback();
      }, ms),
    );
  }
});

afterEach(() => {
  mock.restoreAll();
  mock.timers.reset();
});

function establishedFlow() {
  const { forwarder, send, taken, peer: opened } = forwarderRig((events) => new QuietPeer(events));
  send(100, 0, SYN);
  opened()?.events.ready(0);
  const [synAck] = taken();
  assert.equal(synAck?.flags, SYN | ACK);
  const iss = synAck?.seq ?? 0;
  send(101, iss + 1, ACK);
  const peer = opened();
  assert.ok(peer);
  return { forwarder, peer, taken, send, ours: iss + 1 };
}

test("an idle established flow does not wake the forwarder", () => {
  const { forwarder, taken } = establishedFlow();
  taken();
  mock.timers.tick(60_000);
  // Once at most: the timer set for the SYN-ACK's retransmission is left in place when the ACK
  // pushes the deadline back to the idle limit; it fires once, finds nothing due, and moves on.
  assert.ok(wakeups <= 1, `woke ${wakeups} times in a minute with nothing due`);
  assert.equal(forwarder.flowCount, 1, "the flow is still open (its idle limit is hours away)");
  forwarder.close("test over");
});

test("unacknowledged data is retransmitted when its RTO comes, with the flow otherwise idle", () => {
  const { forwarder, peer, taken } = establishedFlow();
  taken();
  peer.events.data(Buffer.from("hello"));
  const [sent] = taken();
  assert.equal(sent?.payload.toString(), "hello");
  mock.timers.tick(5_000); // no ACK comes: the RTO (1 s at first, RFC 6298) must fire
  const resent = taken().filter((segment) => segment.payload.toString() === "hello");
  assert.ok(resent.length >= 1, "retransmitted");
  assert.ok(wakeups >= 1 && wakeups <= 10, `woke ${wakeups} times for the retransmissions, not per 20 ms`);
  forwarder.close("test over");
});

test("a reply within the ACK delay carries the ACK: one segment instead of two", () => {
  const { forwarder, peer, taken, send, ours } = establishedFlow();
  taken();
  send(101, ours, ACK, Buffer.from("?"));
  assert.deepEqual(taken(), [], "the ACK waits");
  mock.timers.tick(ACK_DELAY_MS - 1);
  peer.events.data(Buffer.from("!"));
  const [reply, ...more] = taken();
  assert.equal(reply?.payload.toString(), "!");
  assert.equal(reply?.ack, 102, "the reply acknowledges the request");
  assert.equal(more.length, 0);
  mock.timers.tick(100);
  assert.deepEqual(taken(), [], "no ACK of its own follows");
  forwarder.close("test over");
});

test("without a reply the ACK leaves after the delay; two full segments and a FIN are acknowledged at once", () => {
  const { forwarder, taken, send, ours } = establishedFlow();
  taken();
  send(101, ours, ACK, Buffer.from("?"));
  mock.timers.tick(ACK_DELAY_MS);
  const [late] = taken();
  assert.equal(late?.ack, 102, "acknowledged after ACK_DELAY_MS");
  assert.equal(late?.payload.length, 0);

  const full = Buffer.alloc(1460, 7); // the MSS announced for a 1500-byte link MTU
  send(102, ours, ACK, full);
  assert.deepEqual(taken(), [], "one full segment may wait");
  send(102 + 1460, ours, ACK, full);
  const [now] = taken();
  assert.equal(now?.ack, 102 + 2 * 1460, "the second full segment is acknowledged at the end of its batch");

  send(102 + 2 * 1460, ours, ACK | FIN);
  const [finAck] = taken();
  assert.equal(finAck?.ack, 102 + 2 * 1460 + 1, "a FIN is acknowledged at once");
  forwarder.close("test over");
});
