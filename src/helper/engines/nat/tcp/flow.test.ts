// A flow joins the connection to any peer through the FlowPeer interface: here a fake one, to
// see the joints: the SYN waits for `ready`, the window advertised shrinks by what the peer
// holds, the peer is paused while the send queue is full, and the memory budget and the flow
// table follow the flow to its end.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TcpFlag } from "../../packet/index.js";
import { FlowTable } from "../flow-table.js";
import { MemoryBudget } from "../memory-budget.js";
import type { PeerRelease } from "./connection.js";
import type { FlowPeer, FlowPeerEvents } from "./flow-peer.js";
import { ACK_DELAY_MS } from "./forwarder.js";
import { DEFAULT_TCP_LIMITS } from "./limits.js";
import { forwarderRig } from "./test-forwarder.js";

const { SYN, ACK, RST } = TcpFlag;

class FakePeer implements FlowPeer {
  written: Buffer[] = [];
  buffered = 0;
  paused = false;
  released: PeerRelease | undefined;
  constructor(readonly events: FlowPeerEvents) {}
  /** Holds everything written: nothing is passed on. */
  write(data: Buffer): void {
    this.written.push(data);
    this.buffered += data.length;
  }
  end(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  localName(): string {
    return "fake";
  }
  release(how: PeerRelease): void {
    this.released ??= how;
  }
}

test("a flow with a peer of its own: handshake on ready, backpressure both ways, budget and row to the end", async () => {
  const table = new FlowTable();
  const budget = new MemoryBudget(64 * 1024 * 1024);
  const cap = 1 << 20;
  const {
    forwarder,
    send,
    taken,
    peer: opened,
  } = forwarderRig((events) => new FakePeer(events), {
    table,
    budget,
    limits: { ...DEFAULT_TCP_LIMITS, perFlowBufferBytes: cap },
    synOptions: { windowScale: 7, mss: 1460 },
  });

  send(100, 0, SYN);
  const peer = opened();
  assert.ok(peer, "the peer was opened");
  assert.equal(taken().length, 0, "the SYN waits for the peer");
  peer.events.ready(0);
  const [synAck] = taken();
  assert.equal(synAck?.flags, SYN | ACK);
  const row = table.snapshot()[0]!;
  assert.equal(row.state, "SYN-RECEIVED");
  assert.equal(table.get(row.id)?.localSocket, "fake");

  const iss = synAck.seq;
  send(101, iss + 1, ACK, Buffer.alloc(1000, 1));
  assert.equal(Buffer.concat(peer.written).length, 1000);
  assert.equal(taken().length, 0, "less than two segments: the ACK waits for a reply to ride on");
  await new Promise((resolve) => setTimeout(resolve, ACK_DELAY_MS + 20));
  const [ack] = taken();
  assert.equal(ack?.window, Math.floor((cap - 1000) / 128), "the window is the room the peer has left");
  assert.equal(budget.usedBytes, 1000, "the peer's backlog counts against the budget");

  peer.events.data(Buffer.alloc(cap, 2));
  assert.equal(peer.paused, true, "a full send queue pauses the peer");
  assert.equal(taken().length, Math.ceil(cap / 1460), "sent as the remote's (scaled) window allows");
  send(1101, iss + 1 + 1460, ACK);
  assert.equal(peer.paused, false, "an acknowledgment makes room again");

  send(1101, 0, RST);
  assert.equal(peer.released, "reset");
  assert.equal(budget.usedBytes, 0, "the flow's bytes leave the budget with it");
  assert.equal(table.get(row.id)?.closeReason, "reset by remote");
  assert.equal(forwarder.flowCount, 0);
  forwarder.close("test over");
});
