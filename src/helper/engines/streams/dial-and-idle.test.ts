// Streams at the exit like TCP flows: a name's next address when the first fails (as curl does),
// and the TCP flows' idle limits. Over a memory pipe to a real TCP server on loopback, names from a
// real UDP resolver (test-world.ts).
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { StreamOpenError, StreamStatus, type LinkStream } from "../../../shared/link-streams.js";
import { until } from "../../../shared/test-until.js";
import { DEAD_NAME, fakeResolver, openAndSay, SECOND_ADDRESS_NAME, tcpServer, world } from "./test-world.js";

const resolver = await fakeResolver();
const server = await tcpServer();
after(() => {
  resolver.close();
  server.close();
});

function closedWith(stream: LinkStream): Promise<StreamStatus> {
  return new Promise((resolve) => stream.onClose(resolve));
}

describe("a name's addresses", () => {
  it("are dialled in turn: the first refuses, the second is connected", async () => {
    const w = await world({ resolverPort: resolver.port });
    try {
      const { stream } = await openAndSay(w, server, SECOND_ADDRESS_NAME, "over the second address");
      const row = w.nat.table.snapshot().find((candidate) => candidate.remote.endsWith(" stream 1"));
      assert.equal(row?.destination, `127.0.0.1:${server.port}`);
      assert.equal(w.forwarder.counters.dialRetries, 1);
      assert.equal(w.nat.streamCounters?.dialRetries, 1, "the engine shows the streams' counters");
      stream.reset();
    } finally {
      w.close();
    }
  });

  it("a fallback address meets the policy as it is then: switched off meanwhile, this computer is not dialled", async () => {
    const w = await world({ resolverPort: resolver.port });
    try {
      // Both addresses pass when the name resolves; access is switched off as the first is dialled.
      const check = w.policy.check.bind(w.policy);
      const connectionsBefore = server.sockets.length;
      let checks = 0;
      w.policy.check = (address) => {
        if (++checks === 3) w.policy.setAllowLocal(false);
        return check(address);
      };
      await assert.rejects(
        w.opener.open({ kind: "name", name: SECOND_ADDRESS_NAME, port: server.port }),
        (error: unknown) => error instanceof StreamOpenError,
      );
      await sleep(100);
      assert.equal(server.sockets.length, connectionsBefore, "127.0.0.1 was not dialled after the switch");
    } finally {
      w.close();
    }
  });

  it("none accepting: refused with the last failure, and the row says how many were tried", async () => {
    const w = await world({ resolverPort: resolver.port });
    try {
      await assert.rejects(
        w.opener.open({ kind: "name", name: DEAD_NAME, port: server.port }),
        (error: unknown) => error instanceof StreamOpenError && error.status === StreamStatus.Refused,
      );
      await until(
        () => w.nat.table.snapshot().some((row) => /2 addresses tried/.test(row.closeReason ?? "")),
        5_000,
        "the closed row's reason",
      );
    } finally {
      w.close();
    }
  });
});

describe("idle streams", () => {
  it("an open stream with no traffic is reset (TimedOut), its destination too", async () => {
    const w = await world({ tcp: { idleTimeoutMs: 300, halfClosedIdleTimeoutMs: 300 } });
    try {
      const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
      const peer = await server.next();
      // The reset reaches it as ECONNRESET ('error', then 'close').
      const peerClosed = new Promise((resolve) => peer.once("close", resolve));
      assert.equal(await closedWith(stream), StreamStatus.TimedOut);
      await peerClosed;
      await until(
        () => w.nat.table.snapshot().some((row) => row.closeReason === "idle timeout"),
        5_000,
        "the row closed for idleness",
      );
      assert.equal(w.forwarder.counters.idleTimeouts, 1);
    } finally {
      w.close();
    }
  });

  it("traffic keeps a stream open past its idle limit", async () => {
    const w = await world({ tcp: { idleTimeoutMs: 1_000, halfClosedIdleTimeoutMs: 1_000 } });
    try {
      const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
      const peer = await server.next();
      let closed = false;
      stream.onClose(() => (closed = true));
      for (let i = 0; i < 25; i++) {
        stream.write(Buffer.from([i]));
        await sleep(100);
      }
      assert.equal(closed, false, "a stream with data every 100 ms outlived 2.5 s of a 1 s idle limit");
      peer.destroy();
    } finally {
      w.close();
    }
  });

  it("a half-closed stream gets the shorter limit", async () => {
    const w = await world({ tcp: { idleTimeoutMs: 60 * 60_000, halfClosedIdleTimeoutMs: 300 } });
    try {
      const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
      const peer = await server.next();
      const peerEnded = once(peer, "end");
      stream.end();
      await peerEnded; // the destination never ends its side
      assert.equal(await closedWith(stream), StreamStatus.TimedOut);
    } finally {
      w.close();
    }
  });
});
