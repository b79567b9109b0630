// splice() over a real loopback socket pair, with a scripted LinkStream whose frames the test hands
// in: the chunks of one turn leave in one corked write, in order, each consumed once written.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { test } from "node:test";
import { StreamStatus, type LinkStream } from "../../../shared/link-streams.js";
import { until } from "../../../shared/test-until.js";
import { splice } from "./splice.js";

/** A LinkStream driven by the test: `deliver` is a STREAM_DATA from the exit, `finish` its END. */
class ScriptedStream implements LinkStream {
  readonly id = 1;
  readonly remoteAddress = "198.18.0.1";
  consumedBytes = 0;
  written: Buffer[] = [];
  private readonly data: Array<(bytes: Buffer) => void> = [];
  private readonly ends: Array<() => void> = [];
  private readonly closes: Array<(status: StreamStatus) => void> = [];
  private endedHere = false;
  private endedThere = false;

  deliver(bytes: Buffer): void {
    for (const listener of this.data) listener(bytes);
  }
  finish(): void {
    this.endedThere = true;
    for (const listener of this.ends) listener();
    this.closeIfDone();
  }
  write(bytes: Buffer): boolean {
    this.written.push(bytes);
    return true;
  }
  end(): void {
    this.endedHere = true;
    this.closeIfDone();
  }
  reset(): void {
    for (const listener of this.closes) listener(StreamStatus.GeneralFailure);
  }
  onData(listener: (bytes: Buffer) => void): void {
    this.data.push(listener);
  }
  consumed(bytes: number): void {
    this.consumedBytes += bytes;
  }
  onDrain(): void {}
  onEnd(listener: () => void): void {
    this.ends.push(listener);
  }
  onClose(listener: (status: StreamStatus) => void): void {
    this.closes.push(listener);
  }
  private closeIfDone(): void {
    if (this.endedHere && this.endedThere) for (const listener of this.closes) listener(StreamStatus.Ok);
  }
}

/** A connected pair: `inner` is the proxy's accepted socket, `client` the user's program. */
async function socketPair(): Promise<{ inner: Socket; client: Socket; close: () => void }> {
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect({
    port: (server.address() as AddressInfo).port,
    host: "127.0.0.1",
    allowHalfOpen: true,
  });
  const [inner] = await accepted;
  return { inner, client, close: () => server.close() };
}

function chunk(index: number, size: number): Buffer {
  return Buffer.alloc(size, index % 251);
}

test("a turn's chunks reach the client in one corked write, in order, each consumed once written", async () => {
  const { inner, client, close } = await socketPair();
  const stream = new ScriptedStream();
  const received: Buffer[] = [];
  client.on("data", (bytes: Buffer) => received.push(bytes));
  const done = splice(inner, stream, { rest: Buffer.alloc(0), ended: false });
  const chunks = Array.from({ length: 20 }, (_, i) => chunk(i, 1000 + i));
  for (const bytes of chunks) stream.deliver(bytes);
  // Still the same turn: nothing handed to the kernel yet, all of it waits in the cork.
  assert.equal(inner.writableCorked, 1);
  assert.equal(stream.consumedBytes, 0);
  const total = chunks.reduce((sum, bytes) => sum + bytes.length, 0);
  await until(() => stream.consumedBytes === total, 5_000, "every chunk consumed");
  assert.equal(inner.writableCorked, 0);
  await until(() => Buffer.concat(received).length === total, 5_000, "every byte at the client");
  assert.deepEqual(Buffer.concat(received), Buffer.concat(chunks));
  // A later turn corks afresh.
  stream.deliver(chunk(7, 10));
  assert.equal(inner.writableCorked, 1);
  await until(() => stream.consumedBytes === total + 10, 5_000, "the later chunk consumed");
  client.end();
  stream.finish();
  assert.equal(await done, StreamStatus.Ok);
  close();
});

test("the exit's END right behind its data, in the same turn, still delivers every byte before the end", async () => {
  const { inner, client, close } = await socketPair();
  const stream = new ScriptedStream();
  const received: Buffer[] = [];
  let ended = false;
  client.on("data", (bytes: Buffer) => received.push(bytes));
  client.on("end", () => {
    ended = true;
    client.end();
  });
  const done = splice(inner, stream, { rest: Buffer.alloc(0), ended: false });
  const chunks = Array.from({ length: 5 }, (_, i) => chunk(i, 50_000));
  for (const bytes of chunks) stream.deliver(bytes);
  stream.finish();
  await until(() => ended, 5_000, "the client's end of stream");
  assert.deepEqual(Buffer.concat(received), Buffer.concat(chunks));
  assert.equal(await done, StreamStatus.Ok);
  close();
});
