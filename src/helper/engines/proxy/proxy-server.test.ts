// The proxy entrance over real loopback sockets, with a FAKE opener that dials the destinations
// directly (fake-stream-opener.ts) instead of through a link.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { SeededRandom } from "../port/seeded-random.js";
import { until } from "../../../shared/test-until.js";
import { newCredentials } from "./credentials.js";
import { FakeStreamOpener } from "./fake-stream-opener.js";
import { ProxyServer } from "./proxy-server.js";

const credentials = newCredentials();
const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");

/** An echo server that also reports end of stream: it answers its input, then ends when the client does. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
}

let echo: { server: Server; port: number };
before(async () => {
  echo = await echoServer();
});
after(() => echo.server.close());

async function startProxy(options: Partial<ConstructorParameters<typeof ProxyServer>[0]> = {}) {
  const opener = new FakeStreamOpener({ names: { "echo.test": "127.0.0.1" } });
  const proxy = new ProxyServer({ credentials, opener, log: () => undefined, ...options });
  const port = await proxy.listen();
  return { proxy, opener, port };
}

/** A client that collects everything it reads and knows when the proxy ended or closed. */
class Client {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  ended = false;
  closed = false;
  constructor(port: number, host = "127.0.0.1") {
    this.socket = connect({ port, host, allowHalfOpen: true });
    this.socket.on("error", () => undefined);
    this.socket.on("data", (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    this.socket.on("end", () => (this.ended = true));
    this.socket.on("close", () => (this.closed = true));
  }
  send(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }
  async read(length: number): Promise<Buffer> {
    await until(() => this.received.length >= length, 5_000, `${length} bytes`);
    const out = this.received.subarray(0, length);
    this.received = this.received.subarray(length);
    return out;
  }
  async text(pattern: RegExp): Promise<string> {
    await until(() => pattern.test(this.received.toString("latin1")) || this.closed, 5_000, String(pattern));
    return this.received.toString("latin1");
  }
}

const userPass = (user: string, password: string): Buffer =>
  Buffer.concat([
    Buffer.from([1, user.length]),
    Buffer.from(user),
    Buffer.from([password.length]),
    Buffer.from(password),
  ]);

async function socksAuthenticated(port: number): Promise<Client> {
  const client = new Client(port);
  client.send(Buffer.from([5, 1, 2]));
  assert.deepEqual(await client.read(2), Buffer.from([5, 2]));
  client.send(userPass(credentials.username, credentials.password));
  assert.deepEqual(await client.read(2), Buffer.from([1, 0]));
  return client;
}

const connectRequest = (port: number): Buffer =>
  Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]);
const nameRequest = (name: string, port: number): Buffer =>
  Buffer.concat([
    Buffer.from([5, 1, 0, 3, name.length]),
    Buffer.from(name),
    Buffer.from([port >> 8, port & 0xff]),
  ]);

test("SOCKS5 CONNECT to an address and to a name (passed to the opener as a name) carries bytes both ways, with half-close", async () => {
  const { proxy, opener, port } = await startProxy();
  try {
    const client = await socksAuthenticated(port);
    client.send(connectRequest(echo.port));
    assert.equal((await client.read(10))[1], 0);
    client.send("hello");
    assert.equal((await client.read(5)).toString(), "hello");
    // Half-close: our end reaches the echo server, which then ends its side back to us.
    client.socket.end();
    await until(() => client.ended, 5_000, "the proxy's end");

    const byName = await socksAuthenticated(port);
    byName.send(Buffer.concat([nameRequest("echo.test", echo.port), Buffer.from("early")]));
    assert.equal((await byName.read(10))[1], 0);
    assert.equal((await byName.read(5)).toString(), "early");
    assert.deepEqual(opener.opened[1], { kind: "name", name: "echo.test", port: echo.port });
    byName.socket.destroy();
    assert.equal(proxy.counters.streamsOpened, 2);
  } finally {
    await proxy.close();
  }
});

test("SOCKS5 refuses a client offering only 'no authentication' and wrong credentials (RFC 1929 status 1, then close)", async () => {
  const { proxy, port } = await startProxy();
  try {
    const noAuth = new Client(port);
    noAuth.send(Buffer.from([5, 1, 0]));
    assert.deepEqual(await noAuth.read(2), Buffer.from([5, 0xff]));
    await until(() => noAuth.ended, 5_000, "close after no acceptable method");

    const wrong = new Client(port);
    wrong.send(Buffer.from([5, 1, 2]));
    assert.deepEqual(await wrong.read(2), Buffer.from([5, 2]));
    wrong.send(userPass(credentials.username, "not-the-password"));
    assert.deepEqual(await wrong.read(2), Buffer.from([1, 1]));
    await until(() => wrong.ended, 5_000, "close after auth failure");
    assert.equal(proxy.counters.authRefused, 2);
    assert.equal(proxy.counters.streamsOpened, 0);
  } finally {
    await proxy.close();
  }
});

test("SOCKS5 answers unknown commands (7), unknown address types (8) and failed opens with their reply codes", async () => {
  const { proxy, port } = await startProxy();
  try {
    const bind = await socksAuthenticated(port);
    bind.send(Buffer.from([5, 2, 0, 1, 127, 0, 0, 1, 0, 80]));
    assert.equal((await bind.read(10))[1], 7);
    const badType = await socksAuthenticated(port);
    badType.send(Buffer.from([5, 1, 0, 7, 1, 2, 3, 4, 0, 80]));
    assert.equal((await badType.read(10))[1], 8);
    const unknownName = await socksAuthenticated(port);
    unknownName.send(nameRequest("nowhere.test", 80));
    assert.equal((await unknownName.read(10))[1], 4);
    const refused = await socksAuthenticated(port);
    const closedPort = await freePort();
    refused.send(connectRequest(closedPort));
    assert.equal((await refused.read(10))[1], 5);
    // UDP ASSOCIATE without a packet path is a command this proxy does not support.
    const udp = await socksAuthenticated(port);
    udp.send(Buffer.from([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]));
    assert.equal((await udp.read(10))[1], 7);
    assert.equal(proxy.counters.openFailed, 2);
  } finally {
    await proxy.close();
  }
});

test("hostile input is closed or answered and counted, and the proxy keeps serving", async () => {
  const { proxy, port } = await startProxy({ handshakeTimeoutMs: 300 });
  try {
    const truncated = new Client(port);
    truncated.send(Buffer.from([5, 3, 2]));
    truncated.socket.end();
    await until(() => truncated.ended, 5_000, "truncated greeting closed");

    const socks4 = new Client(port);
    socks4.send(Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]));
    assert.equal((await socks4.read(2))[1], 0x5b);

    const binary = new Client(port);
    binary.send(Buffer.from([0, 1, 2, 3]));
    await until(() => binary.ended, 5_000, "binary garbage closed");

    const badAuthVersion = new Client(port);
    badAuthVersion.send(Buffer.from([5, 1, 2, 9, 0, 0]));
    assert.deepEqual(await badAuthVersion.read(4), Buffer.from([5, 2, 1, 1]));

    const silent = new Client(port);
    await until(() => silent.ended, 5_000, "the silent client closed by the handshake timeout");
    assert.equal(proxy.counters.handshakeTimeouts, 1);
    assert.ok(proxy.counters.badRequests >= 3);
    assert.ok(proxy.counters.handshakeAbandoned >= 1);

    const good = await socksAuthenticated(port);
    good.send(connectRequest(echo.port));
    assert.equal((await good.read(10))[1], 0);
    good.socket.destroy();
  } finally {
    await proxy.close();
  }
});

test("random bytes after a SOCKS5 or HTTP start, from many clients at once, never stop the proxy", async () => {
  const { proxy, port } = await startProxy({ handshakeTimeoutMs: 1_000 });
  const random = new SeededRandom(14);
  try {
    const clients: Client[] = [];
    for (let i = 0; i < 200; i++) {
      const length = 1 + random.below(600);
      const bytes = Buffer.alloc(length);
      for (let j = 0; j < length; j++) bytes[j] = random.below(256);
      // Half start like a real handshake, so the parsers past the first byte get garbage too.
      if (i % 2 === 0) bytes.set([5, 1 + random.below(3), 2, 1].slice(0, length));
      else bytes.set(Buffer.from("CONNECT ").subarray(0, length));
      const client = new Client(port);
      client.send(bytes);
      if (random.chance(0.5)) client.socket.end();
      clients.push(client);
    }
    await until(
      () => proxy.counters.accepted === 200 && proxy.connections === 0,
      10_000,
      "every hostile connection to be accepted and closed",
    );
    for (const client of clients) client.socket.destroy();
    const good = await socksAuthenticated(port);
    good.send(connectRequest(echo.port));
    assert.equal((await good.read(10))[1], 0);
    good.socket.destroy();
    assert.equal(proxy.counters.accepted, 201);
    assert.equal(proxy.counters.streamsOpened, 1);
  } finally {
    await proxy.close();
  }
});

test("connections past the cap are refused at once, and said once in the log", async () => {
  const lines: string[] = [];
  const { proxy, port } = await startProxy({ maxConnections: 2, log: (line) => lines.push(line) });
  try {
    const held = [new Client(port), new Client(port)];
    await until(() => proxy.connections === 2, 5_000, "two held connections");
    const extra = [new Client(port), new Client(port)];
    await until(() => extra.every((client) => client.closed), 5_000, "refused connections closed");
    assert.equal(proxy.counters.overCap, 2);
    assert.equal(lines.filter((line) => line.includes("refused")).length, 1);
    for (const client of held) client.socket.destroy();
    await until(() => proxy.connections === 0, 5_000, "held connections gone");
    const after = await socksAuthenticated(port);
    after.socket.destroy();
  } finally {
    await proxy.close();
  }
});

test("HTTP proxy: 407 with Proxy-Authenticate without or with wrong credentials", async () => {
  const { proxy, port } = await startProxy();
  try {
    for (const credentialsHeader of [
      "",
      `Proxy-Authorization: Basic ${Buffer.from("a:b").toString("base64")}\r\n`,
    ]) {
      const client = new Client(port);
      client.send(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n${credentialsHeader}\r\n`);
      const text = await client.text(/\r\n\r\n/);
      assert.match(text, /^HTTP\/1\.1 407 /);
      assert.match(text, /\r\nProxy-Authenticate: Basic realm="backhaul"\r\n/);
      await until(() => client.ended, 5_000, "ended after 407");
    }
    assert.equal(proxy.counters.authRefused, 2);
  } finally {
    await proxy.close();
  }
});

test("HTTP proxy: CONNECT tunnels bytes with half-close; failures are 502; oversized heads 431; garbage 400", async () => {
  const { proxy, port } = await startProxy();
  try {
    const tunnel = new Client(port);
    tunnel.send(`CONNECT echo.test:${echo.port} HTTP/1.1\r\nProxy-Authorization: Basic ${auth}\r\n\r\nearly`);
    assert.match(await tunnel.text(/early/), /^HTTP\/1\.1 200 Connection established\r\n\r\nearly$/);
    tunnel.socket.end();
    await until(() => tunnel.ended, 5_000, "the tunnel's end");

    const failed = new Client(port);
    failed.send(`CONNECT nowhere.test:80 HTTP/1.1\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
    assert.match(await failed.text(/\r\n\r\n/), /^HTTP\/1\.1 502 /);

    const big = new Client(port);
    big.send(`GET http://echo.test/ HTTP/1.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`);
    assert.match(await big.text(/\r\n\r\n/), /^HTTP\/1\.1 431 /);

    const garbage = new Client(port);
    garbage.send("HELLO\r\n\r\n");
    assert.match(await garbage.text(/\r\n\r\n/), /^HTTP\/1\.1 400 /);

    const https = new Client(port);
    https.send(`GET https://echo.test/ HTTP/1.1\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
    assert.match(await https.text(/\r\n\r\n/), /^HTTP\/1\.1 400 /);
  } finally {
    await proxy.close();
  }
});

test("HTTP proxy: an absolute-form GET reaches the origin in origin-form without the proxy's credentials", async () => {
  const seen: string[] = [];
  const origin = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      seen.push(chunk.toString("latin1"));
      if (seen.join("").includes("\r\n\r\n"))
        socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    });
  });
  origin.listen(0, "127.0.0.1");
  await once(origin, "listening");
  const originPort = (origin.address() as AddressInfo).port;
  const { proxy, port } = await startProxy();
  try {
    const client = new Client(port);
    client.send(
      `GET http://echo.test:${originPort}/path?q=1 HTTP/1.1\r\nHost: echo.test:${originPort}\r\n` +
        `Proxy-Authorization: Basic ${auth}\r\nProxy-Connection: keep-alive\r\n\r\n` +
        // A pipelined second request: it must not reach this origin with the proxy's credentials.
        `GET http://echo.test:${originPort}/second HTTP/1.1\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
    );
    assert.match(await client.text(/ok$/), /^HTTP\/1\.1 200 OK\r\n[\s\S]*ok$/);
    const request = seen.join("");
    assert.match(request, /^GET \/path\?q=1 HTTP\/1\.1\r\n/);
    assert.doesNotMatch(request, /second/);
    assert.doesNotMatch(request, /Proxy-/i);
    assert.match(request, /\r\nConnection: close\r\n/);
    await until(() => client.closed || client.ended, 5_000, "the response's end");
  } finally {
    await proxy.close();
    origin.close();
  }
});

test("backpressure: a client that does not read holds the exit's data to its credit, and all of it arrives later", async () => {
  const total = 16 * 1024 * 1024;
  const source = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.end(Buffer.alloc(total, 7));
  });
  source.listen(0, "127.0.0.1");
  await once(source, "listening");
  const window = 128 * 1024;
  const opener = new FakeStreamOpener({ window });
  const proxy = new ProxyServer({ credentials, opener, log: () => undefined });
  const port = await proxy.listen();
  try {
    const client = await socksAuthenticated(port);
    client.socket.pause();
    client.send(connectRequest((source.address() as AddressInfo).port));
    await until(() => opener.streams.length === 1, 5_000, "the stream");
    const stream = opener.streams[0]!;
    // The client reads nothing: the fake exit stops sending once its window is unconsumed.
    await until(() => stream.unconsumed >= window, 5_000, "the window to fill");
    client.socket.resume();
    await until(() => client.received.length >= total + 10, 20_000, "every byte");
    assert.equal(client.received.length, total + 10);
    assert.ok(
      stream.maxUnconsumed < window + 64 * 1024,
      `at most a window and a read unconsumed, saw ${stream.maxUnconsumed}`,
    );
  } finally {
    await proxy.close();
    source.close();
  }
});

test("backpressure: a destination that does not read pauses the client; no write goes past the credit", async () => {
  const total = 8 * 1024 * 1024;
  let receivedAtSink = 0;
  let sinkSocket: Socket | undefined;
  const sink = createServer((socket) => {
    sinkSocket = socket;
    socket.on("error", () => undefined);
    socket.pause();
    socket.on("data", (chunk: Buffer) => (receivedAtSink += chunk.length));
  });
  sink.listen(0, "127.0.0.1");
  await once(sink, "listening");
  const opener = new FakeStreamOpener({ window: 64 * 1024 });
  const proxy = new ProxyServer({ credentials, opener, log: () => undefined });
  const port = await proxy.listen();
  try {
    const client = await socksAuthenticated(port);
    client.send(connectRequest((sink.address() as AddressInfo).port));
    assert.equal((await client.read(10))[1], 0);
    client.socket.write(Buffer.alloc(total, 1));
    await until(() => sinkSocket !== undefined, 5_000, "the sink's connection");
    sinkSocket!.resume();
    await until(() => receivedAtSink === total, 20_000, "every byte at the sink");
    assert.equal(opener.streams[0]!.overCredit, 0);
    client.socket.destroy();
  } finally {
    await proxy.close();
    sink.close();
  }
});

test("the proxy listens on 127.0.0.1 and, where the host has it, ::1 at the same port", async () => {
  const { proxy, port } = await startProxy();
  try {
    const v4 = await socksAuthenticated(port);
    v4.socket.destroy();
    const v6 = new Client(port, "::1");
    await once(v6.socket, "connect").catch(() => undefined);
    if (!v6.closed) {
      v6.send(Buffer.from([5, 1, 2]));
      assert.deepEqual(await v6.read(2), Buffer.from([5, 2]));
    }
    v6.socket.destroy();
  } finally {
    await proxy.close();
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
