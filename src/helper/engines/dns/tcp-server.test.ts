import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import {
  startDnsTcpServer,
  type DnsQueryHandler,
  type DnsTcpServer,
  type DnsTcpServerOptions,
} from "./tcp-server.js";
import { makeQuery } from "./test-support.js";

function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

/** Reads framed messages until the server closes or `count` arrived. */
function readFrames(socket: Socket, count = Infinity): Promise<{ frames: Buffer[]; closed: boolean }> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const frames: Buffer[] = [];
    const done = (closed: boolean): void => {
      socket.removeAllListeners("data");
      resolve({ frames, closed });
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        frames.push(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
        buffer = buffer.subarray(2 + buffer.readUInt16BE(0));
      }
      if (frames.length >= count) done(false);
    });
    socket.once("close", () => done(true));
    socket.on("error", () => undefined);
  });
}

/** Answers each query with itself, QR set, after `delayMs(id)`. */
function echoHandler(
  delayMs: (id: number) => number = () => 0,
): DnsQueryHandler & { concurrent: number; peak: number } {
  const handler = {
    concurrent: 0,
    peak: 0,
    async handleQuery(query: Buffer): Promise<Buffer | null> {
      handler.concurrent++;
      handler.peak = Math.max(handler.peak, handler.concurrent);
      const id = query.readUInt16BE(0);
      await new Promise((resolve) => setTimeout(resolve, delayMs(id)));
      handler.concurrent--;
      if (id === 0xdead) return null;
      const answer = Buffer.from(query);
      answer[2] = (answer[2] ?? 0) | 0x80;
      return answer;
    },
  };
  return handler;
}

const servers: DnsTcpServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function serve(handler: DnsQueryHandler, options: DnsTcpServerOptions = {}): Promise<Socket> {
  const server = await startDnsTcpServer(handler, options);
  servers.push(server);
  assert.equal(server.host, "127.0.0.1");
  const socket = connect({ host: server.host, port: server.port });
  await once(socket, "connect");
  return socket;
}

const ids = (frames: Buffer[]): number[] => frames.map((frame) => frame.readUInt16BE(0));

describe("startDnsTcpServer", () => {
  test("pipelined queries in one write are answered as each is ready", async () => {
    const socket = await serve(echoHandler((id) => (4 - id) * 30));
    const reading = readFrames(socket, 3);
    socket.write(Buffer.concat([1, 2, 3].map((id) => frame(makeQuery("p.test", { id })))));
    const { frames } = await reading;
    assert.deepEqual(ids(frames), [3, 2, 1]);
    socket.destroy();
  });

  test("a query split across many writes, and a half-close that still gets its answers", async () => {
    const socket = await serve(echoHandler(() => 20));
    const reading = readFrames(socket);
    const bytes = Buffer.concat([
      frame(makeQuery("s.test", { id: 7 })),
      frame(makeQuery("t.test", { id: 8 })),
    ]);
    for (const byte of bytes) {
      socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    socket.end();
    const { frames, closed } = await reading;
    assert.deepEqual(ids(frames).sort(), [7, 8]);
    assert.ok(closed, "the server closes after answering a half-closed connection");
  });

  test("pipelining is bounded per connection and every query is still answered", async () => {
    const handler = echoHandler(() => 5);
    const socket = await serve(handler, { maxPipelined: 4 });
    const reading = readFrames(socket, 100);
    socket.write(Buffer.concat(Array.from({ length: 100 }, (_, id) => frame(makeQuery("m.test", { id })))));
    const { frames } = await reading;
    assert.equal(frames.length, 100);
    assert.ok(handler.peak <= 4, `peak ${handler.peak}`);
    socket.destroy();
  });

  test("an impossible length, an oversize query or a dropped query closes the connection", async () => {
    for (const bytes of [
      Buffer.from([0, 0]),
      Buffer.concat([Buffer.from([0x20, 0x00]), Buffer.alloc(100)]),
      frame(makeQuery("drop.test", { id: 0xdead })),
    ]) {
      const socket = await serve(echoHandler(), { maxQueryBytes: 4_096 });
      const reading = readFrames(socket);
      socket.write(bytes);
      const { frames, closed } = await reading;
      assert.equal(frames.length, 0);
      assert.ok(closed);
    }
  });

  test("an idle connection is closed; close() ends the rest", async () => {
    const idle = await serve(echoHandler(), { idleTimeoutMs: 100 });
    const started = Date.now();
    assert.ok((await readFrames(idle)).closed);
    assert.ok(Date.now() - started < 2_000);

    const server = await startDnsTcpServer(echoHandler());
    const socket = connect({ host: server.host, port: server.port });
    await once(socket, "connect");
    const reading = readFrames(socket);
    await server.close();
    assert.ok((await reading).closed);
  });
});
