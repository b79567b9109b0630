import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { after, describe, test } from "node:test";
import { DnsEngine } from "./engine.js";
import { decodeAnswer, isTruncated, makeQuery, makeResponse, plain } from "./test-support.js";
import { networkExchange, UpstreamError, type Upstream, type UpstreamProtocol } from "./upstream.js";

type Handler = (query: Buffer, protocol: UpstreamProtocol) => Buffer[];

/** A resolver on 127.0.0.1 answering UDP and TCP on one port from a handler. */
async function fakeResolver(handler: Handler): Promise<{ upstream: Upstream; close: () => Promise<void> }> {
  const udp: UdpSocket = createSocket("udp4");
  udp.bind(0, "127.0.0.1");
  await once(udp, "listening");
  const { port } = udp.address();
  udp.on("message", (query, rinfo) => {
    for (const answer of handler(query, "udp")) udp.send(answer, rinfo.port, rinfo.address);
  });
  const tcp: Server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.once("data", (chunk: Buffer) => {
      const query = chunk.subarray(2, 2 + chunk.readUInt16BE(0));
      for (const answer of handler(query, "tcp")) {
        const framed = Buffer.alloc(2 + answer.length);
        framed.writeUInt16BE(answer.length);
        answer.copy(framed, 2);
        // In two pieces, as a stream may deliver them.
        socket.write(framed.subarray(0, 5));
        setTimeout(() => socket.end(framed.subarray(5)), 10);
      }
    });
  });
  tcp.listen(port, "127.0.0.1");
  await once(tcp, "listening");
  return {
    upstream: { address: "127.0.0.1", port },
    close: async () => {
      udp.close();
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}

async function unusedUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  socket.close();
  return port;
}

const closers: (() => Promise<void>)[] = [];
after(() => Promise.all(closers.map((close) => close())));

const bigTxt = Array.from({ length: 8 }, (_, index) => ({
  type: "TXT",
  name: "big.corp.test",
  ttl: 60,
  data: `${index}`.padEnd(240, "x"),
}));

describe("networkExchange", () => {
  test("UDP: a datagram with another id is ignored, the matching one taken", async () => {
    const resolver = await fakeResolver((query) => {
      const right = makeResponse(query, {
        answers: [{ type: "A", name: "u.test", ttl: 5, data: "198.18.0.7" }],
      });
      const wrong = Buffer.from(right);
      wrong.writeUInt16BE((right.readUInt16BE(0) + 1) & 0xffff, 0);
      return [wrong, right];
    });
    closers.push(resolver.close);
    const query = makeQuery("u.test", { id: 321 });
    const answer = await networkExchange(query, resolver.upstream, "udp", 1_000);
    assert.equal(decodeAnswer(answer).id, 321);
    assert.equal(plain(decodeAnswer(answer).answers[0]).data, "198.18.0.7");
  });

  test("UDP: silence is a timeout, a closed port is unreachable at once", async () => {
    const silent = await fakeResolver(() => []);
    closers.push(silent.close);
    const started = Date.now();
    await assert.rejects(
      networkExchange(makeQuery("s.test"), silent.upstream, "udp", 150),
      (error) => error instanceof UpstreamError && error.failure === "timeout",
    );
    assert.ok(Date.now() - started < 1_000);
    const closed = { address: "127.0.0.1", port: await unusedUdpPort() };
    await assert.rejects(
      networkExchange(makeQuery("s.test"), closed, "udp", 5_000),
      (error) =>
        error instanceof UpstreamError &&
        error.failure === "unreachable" &&
        /ECONNREFUSED/.test(error.message),
    );
  });

  test("TCP: a length-prefixed answer arriving in pieces", async () => {
    const resolver = await fakeResolver((query) => [makeResponse(query, { answers: bigTxt })]);
    closers.push(resolver.close);
    const answer = decodeAnswer(
      await networkExchange(makeQuery("big.corp.test", { type: "TXT" }), resolver.upstream, "tcp", 2_000),
    );
    assert.equal(answer.answers.length, 8);
  });
});

describe("DnsEngine over real sockets", () => {
  test("a dead resolver is skipped; a truncated UDP answer is fetched again over TCP", async () => {
    const protocols: UpstreamProtocol[] = [];
    const resolver = await fakeResolver((query, protocol) => {
      protocols.push(protocol);
      return [makeResponse(query, protocol === "udp" ? { truncated: true } : { answers: bigTxt })];
    });
    closers.push(resolver.close);
    const dead = { address: "127.0.0.1", port: await unusedUdpPort() };
    const engine = new DnsEngine({
      resolvers: [dead, resolver.upstream],
      lookup: () => Promise.reject(new Error("no getaddrinfo in this test")),
    });
    const started = Date.now();
    const answer = await engine.handleQuery(makeQuery("big.corp.test", { type: "TXT", id: 77 }), "tcp");
    const decoded = decodeAnswer(answer);
    assert.equal(decoded.id, 77);
    assert.equal(decoded.answers.length, 8);
    assert.ok(Date.now() - started < 1_000, "a refused port fails over at once");
    assert.deepEqual(protocols, ["tcp"]);
    const overUdp = await engine.handleQuery(
      makeQuery("big.corp.test", { type: "TXT", edns: { udpPayloadSize: 1232 }, checkingDisabled: true }),
      "udp",
    );
    assert.deepEqual(protocols, ["tcp", "udp", "tcp"]);
    assert.ok(overUdp && isTruncated(overUdp), "over 1232 bytes: TC=1 to the remote, which retries over TCP");
    engine.close();
  });
});
