// Link streams end to end in one process: a LinkStreamOpener (entrance) and the NAT engine's stream
// forwarder (exit) over a memory pipe, reaching a real TCP server on loopback, names resolved by
// the DNS engine through a real UDP resolver.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  STREAM_INITIAL_CREDIT,
  StreamOpenError,
  StreamStatus,
  type LinkStream,
} from "../../../shared/link-streams.js";
import { DEFAULT_TCP_LIMITS } from "../nat/tcp/limits.js";
import { until } from "../../../shared/test-until.js";
import { fakeResolver, openAndSay, pattern, SERVER_NAME, sha256Of, tcpServer, world } from "./test-world.js";

const resolver = await fakeResolver();
const server = await tcpServer();
after(() => {
  resolver.close();
  server.close();
});

/** Everything the stream delivers until its end, consumed as it arrives. */
function collect(stream: LinkStream): { chunks: Buffer[]; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  stream.onData((bytes) => {
    chunks.push(Buffer.from(bytes));
    stream.consumed(bytes.length);
  });
  return { chunks, ended: new Promise((resolve) => stream.onEnd(resolve)) };
}

/** Writes `chunks` honouring write()'s false and 'drain', then ends the stream. */
async function writeAll(stream: LinkStream, chunks: Iterable<Buffer>): Promise<number> {
  let refusals = 0;
  let drained: (() => void) | undefined;
  stream.onDrain(() => drained?.());
  for (const chunk of chunks) {
    if (!stream.write(chunk)) {
      refusals++;
      await new Promise<void>((resolve) => (drained = resolve));
    }
  }
  stream.end();
  return refusals;
}

function openError(status: StreamStatus): (error: unknown) => boolean {
  return (error) => error instanceof StreamOpenError && error.status === status;
}

describe("link streams through the exit", () => {
  it("opens by address and carries 10 MB each way intact, with the flow's row", async () => {
    const w = await world();
    const size = 10 * 1024 * 1024;
    const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    assert.equal(stream.remoteAddress, "127.0.0.1");
    const peer = await server.next();
    const upHash = createHash("sha256");
    peer.on("data", (chunk: Buffer) => upHash.update(chunk));
    const upDone = once(peer, "end");
    const received = collect(stream);
    void (async () => {
      for (const chunk of pattern(size, 2)) if (!peer.write(chunk)) await once(peer, "drain");
      peer.end();
    })();
    await writeAll(stream, pattern(size, 1));
    await upDone;
    await received.ended;
    assert.equal(upHash.digest("hex"), sha256Of(pattern(size, 1)));
    assert.equal(sha256Of(received.chunks), sha256Of(pattern(size, 2)));
    const [row] = w.nat.table.snapshot();
    assert.ok(row);
    assert.equal(row.protocol, "tcp");
    assert.equal(row.destination, `127.0.0.1:${server.port}`);
    assert.equal(row.remote, "198.18.0.1 stream 1");
    assert.equal(row.upBytes, size);
    assert.equal(row.downBytes, size);
    await until(() => w.nat.table.snapshot()[0]?.closedAt !== null, 5_000, "the row to close");
    w.close();
  });

  it("opens by name through the DNS engine, whose table shows the lookup", async () => {
    const w = await world({ resolverPort: resolver.port });
    const { stream } = await openAndSay(w, server, SERVER_NAME, "ping");
    const rows = w.dns.table.snapshot();
    assert.deepEqual(rows.map((row) => [row.name, row.type, row.transport, row.rcode]).sort(), [
      [SERVER_NAME, "A", "stream", "NOERROR"],
      [SERVER_NAME, "AAAA", "stream", "NOERROR"],
    ]);
    assert.equal(w.nat.table.snapshot()[0]?.destination, `127.0.0.1:${server.port}`);
    assert.equal(
      w.nat.budget.usedBytes,
      DEFAULT_TCP_LIMITS.perFlowBufferBytes,
      "the stream's window is reserved",
    );
    stream.reset();
    w.close();
  });

  it("refuses an unknown name, a closed port and an address the policy refuses", async () => {
    const w = await world({ resolverPort: resolver.port });
    await assert.rejects(
      w.opener.open({ kind: "name", name: "nowhere.test", port: 80 }),
      openError(StreamStatus.NameNotFound),
    );
    const closed = await tcpServer();
    closed.close();
    await assert.rejects(
      w.opener.open({ kind: "address", address: "127.0.0.1", port: closed.port }),
      openError(StreamStatus.Refused),
    );
    await assert.rejects(
      w.opener.open({ kind: "address", address: "127.0.0.1", port: 0 }),
      openError(StreamStatus.Refused),
    );
    w.close();
    const strict = await world({ allowLocal: false });
    const before = server.sockets.length;
    await assert.rejects(
      strict.opener.open({ kind: "address", address: "127.0.0.1", port: server.port }),
      openError(StreamStatus.NotAllowed),
    );
    assert.equal(server.sockets.length, before, "nothing was dialled");
    assert.equal(strict.nat.table.snapshot()[0]?.closeReason, "not allowed by the egress policy");
    strict.close();
  });

  it("half-closes each way: the other direction goes on", async () => {
    const w = await world();
    const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    const peer = await server.next();
    peer.resume(); // 'end' comes only to a reader
    const received = collect(stream);
    stream.end();
    await once(peer, "end");
    peer.end("after your end");
    await received.ended;
    assert.equal(Buffer.concat(received.chunks).toString(), "after your end");
    const status = await new Promise((resolve) => stream.onClose(resolve));
    assert.equal(status, StreamStatus.Ok);

    const second = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    const secondPeer = await server.next();
    const secondReceived = collect(second);
    secondPeer.end();
    await secondReceived.ended;
    const upData: Buffer[] = [];
    secondPeer.on("data", (chunk: Buffer) => upData.push(chunk));
    second.write(Buffer.from("after the server's end"));
    second.end();
    await once(secondPeer, "end");
    assert.equal(Buffer.concat(upData).toString(), "after the server's end");
    w.close();
  });

  it("resets each way", async () => {
    const w = await world();
    const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    const peer = await server.next();
    peer.resume(); // a reset is seen only by a reader
    const peerError = new Promise<string | undefined>((resolve) =>
      peer.once("error", (error: NodeJS.ErrnoException) => resolve(error.code)),
    );
    stream.reset();
    assert.equal(await peerError, "ECONNRESET");

    const second = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    const secondPeer = await server.next();
    const closed = new Promise<StreamStatus>((resolve) => second.onClose(resolve));
    secondPeer.resetAndDestroy();
    assert.notEqual(await closed, StreamStatus.Ok);
    await until(() => w.forwarder.streamCount === 0, 5_000, "the exit to forget the stream");
    w.close();
  });

  it("a destination that does not read stops the entrance at its credit; the exit's memory stays bounded", async () => {
    const w = await world();
    const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    const peer = await server.next();
    peer.pause();
    const total = 64 * 1024 * 1024;
    const written: Buffer[] = [];
    let refused = 0;
    let maxHeld = 0;
    let drained: boolean;
    stream.onDrain(() => (drained = true));
    // Write until the entrance pushes back and no drain comes for a second: the kernel's buffers
    // and the credit are full.
    for (const chunk of pattern(total, 3)) {
      written.push(chunk);
      if (stream.write(chunk)) continue;
      refused++;
      drained = false;
      for (let waited = 0; !drained && waited < 20; waited++) {
        await sleep(50);
        maxHeld = Math.max(maxHeld, w.forwarder.bufferedBytes);
      }
      if (!drained) break;
    }
    const writtenBytes = written.reduce((sum, chunk) => sum + chunk.length, 0);
    assert.ok(refused > 0, "write() returned false");
    assert.ok(writtenBytes < total, `the entrance stopped (${writtenBytes} bytes written)`);
    // The stream's window, and at most one socket chunk waiting for the entrance's credit.
    const window = DEFAULT_TCP_LIMITS.perFlowBufferBytes;
    assert.ok(maxHeld <= window + 64 * 1024, `the exit held ${maxHeld} bytes`);
    // Once the destination reads, everything arrives, in order.
    const hash = createHash("sha256");
    peer.on("data", (chunk: Buffer) => hash.update(chunk));
    peer.resume(); // paused explicitly: a new 'data' listener alone does not resume it
    const peerEnded = once(peer, "end");
    stream.end();
    await peerEnded;
    assert.equal(hash.digest("hex"), sha256Of(written));
    stream.reset();
    w.close();
  });

  it("opens past the TCP flow limit are reset TooManyStreams and open nothing", async () => {
    const w = await world({ maxTcpFlows: 3 });
    const before = server.sockets.length;
    const streams = await Promise.all(
      [1, 2, 3].map(() => w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port })),
    );
    const flood = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port }),
      ),
    );
    for (const result of flood) {
      assert.equal(result.status, "rejected");
      assert.ok(openError(StreamStatus.TooManyStreams)(result.reason));
    }
    await Promise.all([server.next(), server.next(), server.next()]);
    assert.equal(server.sockets.length, before + 3);
    assert.equal(w.nat.table.snapshot().length, 3);
    assert.equal(w.forwarder.counters.overLimit, 50);
    assert.equal(w.nat.flowCounts.tcp, 3);
    for (const stream of streams) stream.reset();
    w.close();
  });

  it("each stream reserves its window from the engine's buffer budget, at least the initial credit", async () => {
    const w = await world({ totalBufferBytes: 2 * STREAM_INITIAL_CREDIT });
    const target = { kind: "address", address: "127.0.0.1", port: server.port } as const;
    const first = await w.opener.open(target);
    const second = await w.opener.open(target);
    await Promise.all([server.next(), server.next()]);
    await assert.rejects(w.opener.open(target), openError(StreamStatus.TooManyStreams));
    const firstClosed = new Promise((resolve) => first.onClose(resolve));
    first.reset();
    await firstClosed;
    await until(() => w.nat.budget.usedBytes === STREAM_INITIAL_CREDIT, 5_000, "the reservation's release");
    const third = await w.opener.open(target);
    await server.next();
    second.reset();
    third.reset();
    w.close();
  });

  it("when the link closes, every stream closes", async () => {
    const w = await world();
    const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    const peer = await server.next();
    peer.resume();
    const closed = new Promise<StreamStatus>((resolve) => stream.onClose(resolve));
    const peerClosed = new Promise((resolve) => peer.once("close", resolve));
    w.entranceLink.close();
    assert.equal(await closed, StreamStatus.GeneralFailure);
    await peerClosed;
    await assert.rejects(
      w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port }),
      StreamOpenError,
    );
    w.close();
  });
});
