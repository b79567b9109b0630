// The TCP connection without I/O, smoltcp-style: segments in, segments out, a fake clock. Every
// number below follows from the harness's setup: ISS 1000, the remote's ISN 5000, link MTU 1500
// (MSS 1460), window scale 7 both ways, a 256 KiB buffer share.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TcpFlag } from "../../packet/index.js";
import { ConnectionHarness, type HarnessSetup, type Sent } from "./connection-harness.js";

const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

function established(setup: HarnessSetup = {}, ackWindow = 65535): ConnectionHarness {
  const h = new ConnectionHarness(setup);
  h.establish(ackWindow);
  h.take();
  return h;
}

const bytes = (length: number, fill = 0x61): Buffer => Buffer.alloc(length, fill);
const payloadLengths = (sent: Sent[]): number[] => sent.map((s) => s.payload.length);
const end = (s: Sent): number => (s.seq + s.payload.length + (s.flags & FIN ? 1 : 0)) >>> 0;

/** Drives a fresh connection into `state`, with nothing left in the outbox. */
function inState(state: string): ConnectionHarness {
  const h = new ConnectionHarness();
  if (state === "DIALING") return h;
  h.connection.accept(h.now);
  h.take();
  if (state === "SYN-RECEIVED") return h;
  h.segment({ ack: 1001 });
  switch (state) {
    case "ESTABLISHED":
      break;
    case "FIN-WAIT-1":
      h.connection.peerEnd(h.now);
      break;
    case "FIN-WAIT-2":
      h.connection.peerEnd(h.now);
      h.segment({ ack: 1002 });
      break;
    case "CLOSE-WAIT":
      h.segment({ flags: FIN | ACK });
      break;
    case "LAST-ACK":
      h.segment({ flags: FIN | ACK });
      h.connection.peerEnd(h.now);
      break;
    case "CLOSING":
      h.connection.peerEnd(h.now);
      h.segment({ flags: FIN | ACK, ack: 1001 }); // crosses our FIN
      break;
    case "TIME-WAIT":
      h.connection.peerEnd(h.now);
      h.segment({ flags: FIN | ACK, ack: 1002 });
      break;
    default:
      throw new Error(`no way into ${state}`);
  }
  h.flush();
  h.take();
  assert.equal(h.stateName, state);
  return h;
}

const STATES = [
  "DIALING",
  "SYN-RECEIVED",
  "ESTABLISHED",
  "FIN-WAIT-1",
  "FIN-WAIT-2",
  "CLOSE-WAIT",
  "CLOSING",
  "LAST-ACK",
  "TIME-WAIT",
];

describe("handshake", () => {
  test("the SYN is held until accept, then answered with every option the remote offered", () => {
    const h = new ConnectionHarness();
    assert.equal(h.stateName, "DIALING");
    assert.equal(h.take().length, 0);
    h.connection.accept(h.now);
    const synAck = h.takeOne();
    assert.equal(synAck.flags, SYN | ACK);
    assert.equal(synAck.seq, 1000);
    assert.equal(synAck.ack, 5001);
    assert.equal(synAck.window, 65535); // never scaled in a SYN
    assert.deepEqual(synAck.options, { mss: 1460, windowScale: 7, sackPermitted: true });
    h.segment({ ack: 1001 });
    assert.deepEqual(h.states, ["SYN-RECEIVED", "ESTABLISHED"]);
    assert.equal(h.take().length, 0);
  });

  const cases: { name: string; offered: object; answered: object; sendMss: number }[] = [
    { name: "no options", offered: {}, answered: { mss: 1460 }, sendMss: 536 },
    { name: "MSS only", offered: { mss: 1000 }, answered: { mss: 1460 }, sendMss: 1000 },
    {
      name: "window scale only",
      offered: { windowScale: 2 },
      answered: { mss: 1460, windowScale: 7 },
      sendMss: 536,
    },
    {
      name: "SACK-permitted only",
      offered: { sackPermitted: true },
      answered: { mss: 1460, sackPermitted: true },
      sendMss: 536,
    },
    { name: "an MSS below the floor of 48", offered: { mss: 1 }, answered: { mss: 1460 }, sendMss: 48 },
  ];
  for (const { name, offered, answered, sendMss } of cases) {
    test(`with ${name}: the SYN-ACK answers only what was offered, segments fit the MSS`, () => {
      const h = new ConnectionHarness({ synOptions: offered });
      h.connection.accept(h.now);
      assert.deepEqual(h.takeOne().options, answered);
      h.segment({ ack: 1001 });
      h.connection.peerData(bytes(2000), h.now);
      const sent = h.take();
      assert.equal(Math.max(...payloadLengths(sent)), sendMss);
      assert.equal(
        payloadLengths(sent).reduce((a, b) => a + b, 0),
        2000,
      );
    });
  }

  test("MSS 1280: a link MTU of 1280 announces 1240 over IPv4 and 1220 over IPv6", () => {
    for (const [family, announced] of [
      [4, 1240],
      [6, 1220],
    ] as const) {
      const h = new ConnectionHarness({ family, linkMtu: 1280, synOptions: { mss: 1280 } });
      h.connection.accept(h.now);
      assert.equal(h.takeOne().options.mss, announced);
      h.segment({ ack: 1001 });
      h.connection.peerData(bytes(3000), h.now);
      assert.deepEqual(payloadLengths(h.take()), [announced, announced, 3000 - 2 * announced]);
    }
  });

  test("a remote MSS of 1280 on a large link: segments of 1280", () => {
    const h = established({ linkMtu: 65520, synOptions: { mss: 1280, windowScale: 7 } });
    h.connection.peerData(bytes(3000), h.now);
    assert.deepEqual(payloadLengths(h.take()), [1280, 1280, 440]);
  });

  test("a lost SYN-ACK is sent again on timeout, with backoff, and on a retransmitted SYN", () => {
    const h = new ConnectionHarness();
    h.connection.accept(h.now);
    h.take();
    assert.equal(h.fireTimer(), 1000);
    assert.equal(h.takeOne().flags, SYN | ACK);
    assert.equal(h.fireTimer(), 2000);
    assert.equal(h.takeOne().flags, SYN | ACK);
    h.segment({ seq: 5000, flags: SYN, ack: 0 });
    const again = h.takeOne();
    assert.equal(again.flags, SYN | ACK);
    assert.equal(again.seq, 1000);
  });

  test("an ACK below our SYN-ACK in SYN-RECEIVED is dropped; an ACK of data never sent earns an ACK", () => {
    const h = new ConnectionHarness();
    h.connection.accept(h.now);
    h.take();
    h.segment({ ack: 1000 });
    assert.equal(h.stateName, "SYN-RECEIVED");
    h.segment({ ack: 1500 });
    assert.equal(h.stateName, "SYN-RECEIVED");
    assert.equal(h.acksOwed, 1);
  });

  test("refused while the SYN is held: with an RST as the destination did, or quietly", () => {
    const h = new ConnectionHarness();
    h.connection.refuse("connect failed: ECONNREFUSED", true);
    const rst = h.takeOne();
    assert.equal(rst.flags, RST | ACK);
    assert.equal(rst.ack, 5001);
    assert.deepEqual(h.closedWith, { reason: "connect failed: ECONNREFUSED", release: "drop" });
    const quiet = new ConnectionHarness();
    quiet.connection.refuse("connect failed: ETIMEDOUT", false);
    assert.equal(quiet.take().length, 0);
    assert.equal(quiet.stateName, "CLOSED");
  });
});

describe("data both ways", () => {
  test("the remote's bytes reach the peer in order, one ACK per batch", () => {
    const h = established();
    h.segment({ payload: "hello " });
    h.segment({ payload: "world" });
    assert.equal(h.deliveredText(), "hello world");
    assert.equal(h.take().length, 0, "ACKs wait for the end of the batch");
    assert.equal(h.acksOwed, 1);
    h.flush();
    const ack = h.takeOne();
    assert.equal(ack.flags, ACK);
    assert.equal(ack.ack, 5001 + 11);
  });

  test("the peer's bytes leave in MSS segments, PSH on the last, and count as new once", () => {
    const h = established();
    h.connection.peerData(bytes(3000), h.now);
    const sent = h.take();
    assert.deepEqual(payloadLengths(sent), [1460, 1460, 80]);
    assert.deepEqual(
      sent.map((s) => s.seq),
      [1001, 2461, 3921],
    );
    assert.equal(sent[2]!.flags, ACK | PSH);
    assert.equal(sent[0]!.flags, ACK);
    assert.equal(h.newBytes, 3000);
    h.segment({ ack: 4001 });
    assert.equal(h.connection.bufferedBytes, 0);
    assert.equal(h.connection.deadline, h.now + 60_000, "only the idle timer runs");
  });

  test("a full send queue stops the peer; an acknowledgment resumes it", () => {
    const h = established({ bufferCap: 4096 });
    h.connection.peerData(bytes(4096), h.now);
    assert.equal(h.sendFullCount, 1);
    h.segment({ ack: 1001 + 1460 });
    assert.equal(h.sendRoomCount, 1);
  });

  test("a full link holds segments until it drains", () => {
    const h = established();
    h.linkOpen = false;
    h.connection.peerData(bytes(100), h.now);
    assert.equal(h.take().length, 0);
    assert.equal(h.linkBlockedCount, 1);
    h.linkOpen = true;
    h.connection.linkDrained(h.now);
    assert.deepEqual(payloadLengths(h.take()), [100]);
  });
});

describe("loss and retransmission", () => {
  test("lost data is sent again on timeout with exponential backoff, then the flow is reset", () => {
    const h = established({ limits: { idleTimeoutMs: 600_000 } });
    h.connection.peerData(bytes(1000), h.now);
    h.take();
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      waits.push(h.fireTimer());
      const again = h.takeOne();
      assert.equal(again.seq, 1001);
      assert.equal(again.payload.length, 1000);
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000]);
    h.fireTimer();
    assert.equal(h.takeOne().flags, RST | ACK);
    assert.deepEqual(h.closedWith, {
      reason: "retransmission limit reached: the remote stopped acknowledging",
      release: "reset",
    });
  });

  test("a timeout rewinds to the oldest unacknowledged byte and resends the whole window", () => {
    const h = established();
    h.connection.peerData(bytes(4000), h.now);
    h.take();
    h.segment({ ack: 1001 + 1460 });
    h.fireTimer();
    const sent = h.take();
    assert.deepEqual(
      sent.map((s) => s.seq),
      [2461, 3921],
    );
    assert.equal(sent[1]!.payload.length, 4000 - 2920);
  });

  test("the RTO follows measured round trips, and progress ends the backoff", () => {
    const h = established();
    h.connection.peerData(bytes(100), h.now);
    h.take();
    h.now += 50;
    h.segment({ ack: 1101 });
    h.connection.peerData(bytes(100), h.now);
    h.take();
    // srtt 50, rttvar 25: 50 + 4·25 = 150, under the 200 ms floor.
    assert.equal(h.fireTimer(), 200);
    h.take();
    assert.equal(h.fireTimer(), 400);
    h.take();
    h.segment({ ack: 1201 });
    h.connection.peerData(bytes(100), h.now);
    h.take();
    assert.equal(h.fireTimer(), 200);
  });

  test("no RTT sample from retransmitted data (Karn)", () => {
    const h = established();
    h.connection.peerData(bytes(100), h.now);
    h.take();
    h.fireTimer(); // after 1000 ms
    h.take();
    h.now += 5;
    h.segment({ ack: 1101 }); // ambiguous: for the original or the retransmission?
    h.connection.peerData(bytes(100), h.now);
    h.take();
    assert.equal(h.fireTimer(), 1000, "still the initial RTO, not one from a 1005 ms sample");
  });

  test("a lost FIN is sent again on timeout", () => {
    const h = established();
    h.connection.peerEnd(h.now);
    const fin = h.takeOne();
    assert.equal(fin.flags, ACK | FIN);
    h.fireTimer();
    const again = h.takeOne();
    assert.equal(again.flags, ACK | FIN);
    assert.equal(again.seq, fin.seq);
  });

  test("fast retransmit on the third duplicate ACK, then NewReno fills each hole a partial ACK shows", () => {
    const h = established();
    h.connection.peerData(bytes(5 * 1460), h.now);
    assert.equal(h.take().length, 5);
    const seg = (n: number): number => 1001 + n * 1460;
    h.segment({ ack: seg(1) });
    h.segment({ ack: seg(1) });
    h.segment({ ack: seg(1) });
    assert.equal(h.take().length, 0, "two duplicates are not enough");
    h.segment({ ack: seg(1) });
    const fast = h.takeOne();
    assert.equal(fast.seq, seg(1));
    assert.equal(fast.payload.length, 1460);
    h.segment({ ack: seg(3) }); // partial: segment 3 was lost too
    const partial = h.takeOne();
    assert.equal(partial.seq, seg(3));
    h.segment({ ack: seg(5) });
    assert.equal(h.take().length, 0, "recovery is over");
    assert.equal(h.connection.bufferedBytes, 0);
  });

  test("duplicate ACKs that carry data or a new window are not counted", () => {
    const h = established();
    h.connection.peerData(bytes(3 * 1460), h.now);
    h.take();
    h.segment({ ack: 1001, payload: "a" });
    h.segment({ ack: 1001, payload: "b" });
    h.segment({ ack: 1001, window: 1000 });
    h.segment({ ack: 1001, window: 1001 });
    assert.equal(h.take().length, 0);
  });
});

describe("send: SACK recovery", () => {
  const seg = (n: number): number => 1001 + n * 1460;
  const sackAck = (h: ConnectionHarness, blocks: [number, number][]): void =>
    h.segment({
      ack: seg(1),
      options: { sackBlocks: blocks.map(([l, r]) => ({ left: seg(l), right: seg(r) })) },
    });

  test("the third duplicate ACK resends every hole the SACK blocks show, at once, and each only once", () => {
    const h = established();
    h.connection.peerData(bytes(6 * 1460), h.now);
    assert.equal(h.take().length, 6);
    h.segment({ ack: seg(1) }); // segments 1 and 3 are lost
    sackAck(h, [[2, 3]]);
    sackAck(h, [
      [4, 5],
      [2, 3],
    ]);
    assert.equal(h.take().length, 0);
    sackAck(h, [
      [4, 6],
      [2, 3],
    ]);
    assert.deepEqual(
      h.take().map((s) => s.seq),
      [seg(1), seg(3)],
      "NewReno alone would resend only segment 1 now",
    );
    h.segment({ ack: seg(3), options: { sackBlocks: [{ left: seg(4), right: seg(6) }] } });
    assert.equal(h.take().length, 0, "segment 3 was resent already");
    h.segment({ ack: seg(6) });
    assert.equal(h.connection.bufferedBytes, 0);
  });

  test("a SACK block learnt during recovery shows a new hole, which is resent", () => {
    const h = established();
    h.connection.peerData(bytes(8 * 1460), h.now);
    h.take();
    h.segment({ ack: seg(1) });
    for (let i = 0; i < 3; i++) sackAck(h, [[2, 4]]);
    assert.deepEqual(
      h.take().map((s) => s.seq),
      [seg(1)],
    );
    sackAck(h, [
      [5, 8],
      [2, 4],
    ]);
    assert.deepEqual(
      h.take().map((s) => s.seq),
      [seg(4)],
    );
  });

  test("SACK blocks outside what was sent are ignored", () => {
    const h = established();
    h.connection.peerData(bytes(3 * 1460), h.now);
    h.take();
    h.segment({ ack: seg(1) });
    for (let i = 0; i < 3; i++) sackAck(h, [[5, 9]]); // beyond sndMax: a lie
    assert.deepEqual(
      h.take().map((s) => s.seq),
      [seg(1)],
      "plain fast retransmit",
    );
  });

  test("a timeout forgets the scoreboard and resends everything unacknowledged", () => {
    const h = established();
    h.connection.peerData(bytes(4 * 1460), h.now);
    h.take();
    h.segment({ ack: seg(1), options: { sackBlocks: [{ left: seg(2), right: seg(4) }] } });
    h.fireTimer();
    assert.deepEqual(
      h.take().map((s) => s.seq),
      [seg(1), seg(2), seg(3)],
    );
  });
});

describe("receive: SACK, reordering, duplicates", () => {
  test("a hole is answered at once with a duplicate ACK and SACK blocks, the latest first", () => {
    const h = established();
    h.segment({ seq: 5001, payload: bytes(100) });
    h.segment({ seq: 5201, payload: bytes(100) }); // 5101..5201 lost
    let dup = h.takeOne();
    assert.equal(dup.ack, 5101);
    assert.deepEqual(dup.options.sackBlocks, [{ left: 5201, right: 5301 }]);
    h.segment({ seq: 5401, payload: bytes(100) }); // 5301..5401 lost
    dup = h.takeOne();
    assert.deepEqual(dup.options.sackBlocks, [
      { left: 5401, right: 5501 },
      { left: 5201, right: 5301 },
    ]);
    h.segment({ seq: 5301, payload: bytes(100) });
    dup = h.takeOne();
    assert.deepEqual(dup.options.sackBlocks, [{ left: 5201, right: 5501 }]);
    h.segment({ seq: 5101, payload: bytes(100, 0x62) });
    assert.equal(Buffer.concat(h.delivered).length, 500);
    assert.equal(Buffer.concat(h.delivered)[100], 0x62);
    h.flush();
    const ack = h.takeOne();
    assert.equal(ack.ack, 5501);
    assert.equal(ack.options.sackBlocks, undefined);
  });

  test("without SACK-permitted, a hole gets a plain duplicate ACK", () => {
    const h = established({ synOptions: { mss: 1460 } });
    h.segment({ seq: 5101, payload: bytes(100) });
    const dup = h.takeOne();
    assert.equal(dup.ack, 5001);
    assert.equal(dup.options.sackBlocks, undefined);
  });

  test("duplicates and overlaps deliver each byte once", () => {
    const h = established();
    h.segment({ seq: 5001, payload: "abcdef" });
    h.segment({ seq: 5001, payload: "abcdef" });
    h.segment({ seq: 5004, payload: "defghi" });
    h.segment({ seq: 5011, payload: "kl" });
    h.segment({ seq: 5011, payload: "kl" });
    h.segment({ seq: 5010, payload: "j" });
    assert.equal(h.deliveredText(), "abcdefghijkl");
    h.flush();
    assert.equal(h.take().at(-1)!.ack, 5013);
  });
});

describe("windows", () => {
  test("zero window from the remote: nothing is sent, probes back off, an opened window resumes", () => {
    const h = established({}, 0);
    h.connection.peerData(bytes(2000), h.now);
    assert.equal(h.take().length, 0);
    assert.equal(h.fireTimer(), 1000);
    const probe = h.takeOne();
    assert.equal(probe.seq, 1000, "an old sequence number makes the remote answer");
    assert.equal(probe.payload.length, 0);
    assert.equal(h.fireTimer(), 2000);
    h.take();
    h.segment({ ack: 1001, window: 10 }); // 10 << 7 = 1280 bytes
    assert.deepEqual(payloadLengths(h.take()), [1280]);
  });

  test("our zero window: the peer holds everything; data beyond it is not taken; a drain reopens it", () => {
    const h = established({ bufferCap: 4096 });
    h.segment({ payload: bytes(4096) });
    h.peerHeld = 4096;
    h.flush();
    assert.equal(h.takeOne().window, 0);
    h.segment({ seq: 5001 + 4096, payload: "x" });
    assert.equal(Buffer.concat(h.delivered).length, 4096);
    h.flush();
    assert.equal(h.takeOne().ack, 5001 + 4096);
    h.peerHeld = 0;
    h.connection.peerDrained();
    h.flush();
    assert.equal(h.takeOne().window, 4096 / 128);
  });

  test("a drain that frees less than a segment announces nothing (silly window)", () => {
    const h = established({ bufferCap: 4096 });
    h.segment({ payload: bytes(4096) });
    h.peerHeld = 4096;
    h.flush();
    h.take();
    const owed = h.acksOwed;
    h.peerHeld = 4096 - 1000;
    h.connection.peerDrained();
    assert.equal(h.acksOwed, owed);
  });

  test("window scaling edges: shift capped at 14, fields rounded down, the right edge never moves back", () => {
    const big = established({ synOptions: { windowScale: 20 } }, 1); // 1 << 14
    big.connection.peerData(bytes(20_000), big.now);
    assert.equal(
      payloadLengths(big.take()).reduce((a, b) => a + b, 0),
      16_384,
    );

    const h = established({ bufferCap: 4096 });
    h.segment({ payload: bytes(100) });
    h.peerHeld = 100; // room 3996: 31 units would pull the edge back, so 32 are advertised
    h.flush();
    assert.equal(h.takeOne().window, 32);

    const unscaled = established({ synOptions: { mss: 1460 }, bufferCap: 1 << 20 });
    unscaled.segment({ payload: "a" });
    unscaled.flush();
    assert.equal(unscaled.takeOne().window, 65535);

    const capped = established({ bufferCap: 16 << 20 });
    capped.segment({ payload: "a" });
    capped.flush();
    assert.equal(capped.takeOne().window, 65535, "8 MiB at most with shift 7");
  });
});

describe("teardown", () => {
  test("half-close: after the remote's FIN, the peer's data still flows and is acknowledged", () => {
    const h = established();
    h.segment({ flags: FIN | ACK, payload: "bye" });
    assert.equal(h.stateName, "CLOSE-WAIT");
    assert.ok(h.remoteFinSeen);
    h.flush();
    assert.equal(h.takeOne().ack, 5001 + 4);
    h.connection.peerData(bytes(500), h.now);
    assert.deepEqual(payloadLengths(h.take()), [500]);
    h.connection.peerEnd(h.now);
    assert.equal(h.takeOne().flags, ACK | FIN);
    assert.equal(h.stateName, "LAST-ACK");
    h.segment({ ack: 1001 + 501 });
    assert.deepEqual(h.closedWith, { reason: "closed", release: "graceful" });
  });

  test("our close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for timeWaitMs, then closed", () => {
    const h = established();
    h.linkOpen = false;
    h.connection.peerData(bytes(10), h.now);
    h.connection.peerEnd(h.now);
    h.linkOpen = true;
    h.connection.linkDrained(h.now);
    const sent = h.take();
    assert.equal(sent.length, 1, "the FIN rides on the last data segment");
    assert.equal(sent[0]!.flags, ACK | PSH | FIN);
    h.segment({ ack: end(sent[0]!) });
    assert.equal(h.stateName, "FIN-WAIT-2");
    h.segment({ flags: FIN | ACK });
    assert.equal(h.stateName, "TIME-WAIT");
    h.flush();
    assert.equal(h.takeOne().ack, 5002);
    assert.equal(h.fireTimer(), 2000);
    assert.deepEqual(h.closedWith, { reason: "closed", release: "graceful" });
  });

  test("simultaneous close: FINs cross, CLOSING, then TIME-WAIT", () => {
    const h = inState("CLOSING");
    h.segment({ ack: 1002 });
    assert.equal(h.stateName, "TIME-WAIT");
  });

  test("a FIN that acknowledges ours goes from FIN-WAIT-1 straight to TIME-WAIT", () => {
    const h = inState("FIN-WAIT-1");
    h.segment({ flags: FIN | ACK, ack: 1002 });
    assert.deepEqual(h.states.slice(-2), ["FIN-WAIT-2", "TIME-WAIT"]);
  });

  test("a FIN after a hole waits for the hole", () => {
    const h = established();
    h.segment({ seq: 5011, flags: FIN | ACK, payload: "x" });
    assert.equal(h.stateName, "ESTABLISHED");
    h.segment({ seq: 5001, payload: bytes(10) });
    assert.equal(h.stateName, "ESTABLISHED", "the FIN itself is not held");
    h.segment({ seq: 5011, flags: FIN | ACK, payload: "x" });
    assert.equal(h.stateName, "CLOSE-WAIT");
  });

  const finOutcome: Record<string, string> = {
    DIALING: "DIALING",
    "SYN-RECEIVED": "CLOSE-WAIT",
    ESTABLISHED: "CLOSE-WAIT",
    "FIN-WAIT-1": "CLOSING",
    "FIN-WAIT-2": "TIME-WAIT",
    "CLOSE-WAIT": "CLOSE-WAIT",
    CLOSING: "CLOSING",
    "LAST-ACK": "LAST-ACK",
    "TIME-WAIT": "TIME-WAIT",
  };
  for (const state of STATES) {
    test(`a FIN in ${state}`, () => {
      const h = inState(state);
      const fresh =
        state === "DIALING" ||
        state === "SYN-RECEIVED" ||
        state === "ESTABLISHED" ||
        state.startsWith("FIN-WAIT");
      // A first FIN at remoteNxt, or the remote's FIN again (its ACK was lost).
      const seq = fresh ? h.remoteNxt : (h.remoteNxt - 1) >>> 0;
      const ourFinUnacked = state === "FIN-WAIT-1" || state === "CLOSING" || state === "LAST-ACK";
      const ack =
        state === "DIALING" ? 0 : state === "SYN-RECEIVED" ? 1001 : h.ourNxt() - (ourFinUnacked ? 1 : 0);
      h.segment({ seq, flags: FIN | ACK, ack });
      assert.equal(h.stateName, finOutcome[state]);
      h.flush();
      const answers = h.take();
      if (state === "DIALING") assert.equal(answers.length, 0, "held: nothing is answered yet");
      else assert.equal(answers.at(-1)!.ack, (seq + 1) >>> 0, `the FIN is acknowledged in ${state}`);
    });
  }

  for (const state of STATES) {
    test(`an RST in ${state}`, () => {
      const h = inState(state);
      h.segment({ flags: RST, ack: 0 });
      assert.equal(h.take().length, 0, "an RST is never answered");
      if (state === "TIME-WAIT") {
        assert.equal(h.stateName, "TIME-WAIT", "TIME-WAIT ends on its own (RFC 1337)");
        return;
      }
      assert.equal(h.stateName, "CLOSED");
      assert.equal(h.closedWith?.release, state === "DIALING" ? "drop" : "reset");
    });

    test(`an abort in ${state}`, () => {
      const h = inState(state);
      h.connection.abort("link closed");
      const sent = h.take();
      if (state === "DIALING") assert.equal(sent.length, 0, "the remote was never answered");
      else assert.equal(sent[0]!.flags, RST | ACK);
      assert.deepEqual(h.closedWith, { reason: "link closed", release: "reset" });
      h.segment({ flags: ACK, payload: "late" });
      assert.equal(h.take().length, 0, "a closed connection is silent");
    });
  }

  test("an RST outside the window is ignored", () => {
    const h = established();
    h.segment({ seq: 5001 + 70_000, flags: RST, ack: 0 });
    h.segment({ seq: 5000, flags: RST, ack: 0 });
    assert.equal(h.stateName, "ESTABLISHED");
  });

  test("TIME-WAIT answers a retransmitted FIN at once and lasts timeWaitMs from its start", () => {
    const h = inState("TIME-WAIT");
    h.now += 500;
    h.segment({ seq: (h.remoteNxt - 1) >>> 0, flags: FIN | ACK });
    assert.equal(h.takeOne().ack, h.remoteNxt);
    assert.equal(h.fireTimer(), 1500);
    assert.equal(h.stateName, "CLOSED");
  });
});

describe("idle timeouts", () => {
  test("an established flow silent for idleTimeoutMs is reset; activity restarts the clock", () => {
    const h = established();
    h.advance(30_000);
    h.segment({ payload: "still here" });
    h.advance(40_000);
    assert.equal(h.stateName, "ESTABLISHED");
    h.advance(20_000);
    assert.equal(h.stateName, "CLOSED");
    assert.equal(h.take().at(-1)!.flags, RST | ACK);
    assert.deepEqual(h.closedWith, { reason: "idle timeout", release: "reset" });
  });

  test("a half-closed flow gets halfClosedIdleTimeoutMs", () => {
    const h = inState("CLOSE-WAIT");
    h.advance(9_999);
    assert.equal(h.stateName, "CLOSE-WAIT");
    h.advance(1);
    assert.equal(h.closedWith?.reason, "idle timeout");
  });
});

describe("sequence wraparound", () => {
  test("both directions cross 2^32", () => {
    const h = new ConnectionHarness({ iss: 0xfffffff0, irs: 0xffffffe0 });
    h.establish();
    h.take();
    h.connection.peerData(bytes(100), h.now);
    const sent = h.takeOne();
    assert.equal(sent.seq, 0xfffffff1);
    h.segment({ ack: 0x55 });
    assert.equal(h.connection.bufferedBytes, 0);
    assert.equal(h.connection.deadline, h.now + 60_000, "everything acknowledged");
    h.segment({ seq: 0xffffffe1 + 50, payload: bytes(50, 0x62) }); // after a hole, across the wrap
    h.take(); // the duplicate ACK for the hole
    h.segment({ seq: 0xffffffe1, payload: bytes(50) });
    assert.equal(Buffer.concat(h.delivered).length, 100);
    h.flush();
    assert.equal(h.takeOne().ack, 0x45);
  });
});
