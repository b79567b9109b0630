import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { readdirSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { startDnsTcpServer, type DnsTcpServer } from "../../engines/dns/tcp-server.js";
import {
  a,
  decodeAnswer,
  makeQuery,
  makeResponse,
  rcodeOf,
  scriptedExchange,
  SERVER_A,
  SERVER_B,
} from "../../engines/dns/test-support.js";
import type { Upstream } from "../../engines/dns/upstream.js";
import { Rcode } from "../../engines/dns/wire.js";
import { loadNativeAddon } from "../../native/load-addon.js";
import { SplitForwarder } from "./split-forwarder.js";

/** A resolver on loopback (UDP and TCP, one port) that answers every A question with `address`. */
async function fakeResolver(address: string): Promise<{ upstream: Upstream; close(): Promise<void> }> {
  const answer = (query: Buffer): Buffer => {
    const name = decodeAnswer(query).questions?.[0]?.name ?? "";
    return makeResponse(query, { answers: [a(name, address)] });
  };
  const tcp: DnsTcpServer = await startDnsTcpServer({
    handleQuery: (query) => Promise.resolve(answer(query)),
  });
  const udp = createSocket("udp4");
  udp.on("message", (query, from) => udp.send(answer(query), from.port, from.address));
  await new Promise<void>((resolve) => udp.bind(tcp.port, "127.0.0.1", resolve));
  return {
    upstream: { address: "127.0.0.1", port: tcp.port },
    close: async () => {
      udp.close();
      await tcp.close();
    },
  };
}

function askUdp(port: number, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no UDP answer within 3 s"));
    }, 3_000);
    socket.on("message", (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message);
    });
    socket.send(query, port, "127.0.0.1");
  });
}

function askTcp(port: number, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    let received = Buffer.alloc(0);
    socket.on("connect", () => socket.write(Buffer.concat([length, query])));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.destroy();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on("error", reject);
  });
}

function addressIn(answer: Buffer): unknown {
  const record = decodeAnswer(answer).answers?.[0];
  return record !== undefined && "data" in record ? record.data : undefined;
}

function addonRelays(): boolean {
  try {
    return loadNativeAddon().DnsRelay !== undefined;
  } catch {
    return false; // not Linux, or not built: the forwarder falls back, and says so
  }
}

/** Both UDP relays: the native thread where the addon has it, and JavaScript, its fallback. */
const relays = [
  { native: true, expected: addonRelays() ? "native" : "javascript" },
  { native: false, expected: "javascript" },
] as const;

for (const { native, expected } of relays)
  describe(`split forwarder over real sockets (UDP relayed by ${expected})`, () => {
    let link: Awaited<ReturnType<typeof fakeResolver>>;
    let remote: Awaited<ReturnType<typeof fakeResolver>>;
    let forwarder: SplitForwarder;

    before(async () => {
      link = await fakeResolver("198.19.1.10");
      remote = await fakeResolver("198.18.5.2");
      forwarder = await SplitForwarder.start({
        listen: "127.0.0.1",
        port: 0,
        domains: ["corp.test", "19.198.in-addr.arpa."],
        linkServers: [link.upstream],
        remoteServers: [remote.upstream],
        native,
      });
      assert.equal(forwarder.udpRelay, expected);
    });
    after(async () => {
      await forwarder?.close();
      await link?.close();
      await remote?.close();
    });

    test("names under the split domains go to the link, the rest to the remote's own servers", async () => {
      for (const name of ["host.corp.test", "CORP.test", "a.b.Corp.Test.", "10.1.19.198.in-addr.arpa"]) {
        const answer = await askUdp(forwarder.port, makeQuery(name, { id: 0xbeef }));
        assert.equal(addressIn(answer), "198.19.1.10", name);
        assert.equal(answer.readUInt16BE(0), 0xbeef, "the client's own id comes back");
      }
      for (const name of ["pub.remote.test", "notcorp.test", "corp.test.example", "10.1.18.198.in-addr.arpa"])
        assert.equal(addressIn(await askUdp(forwarder.port, makeQuery(name))), "198.18.5.2", name);
      assert.equal(forwarder.counters.viaLink, 4);
      assert.equal(forwarder.counters.viaRemote, 4);
    });

    test("a port already taken is an error, not a silent fallback", async () => {
      await assert.rejects(
        SplitForwarder.start({
          listen: "127.0.0.1",
          port: forwarder.port,
          domains: [],
          linkServers: [],
          remoteServers: [remote.upstream],
          native,
        }),
        /EADDRINUSE/,
      );
    });

    test("a fixed port whose TCP twin another process holds is an error too, and its UDP port is given back", async () => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
      const taken = (holder.address() as AddressInfo).port;
      try {
        const options = { listen: "127.0.0.1", port: taken, domains: [], linkServers: [], native };
        await assert.rejects(
          SplitForwarder.start({ ...options, remoteServers: [remote.upstream] }),
          (error: NodeJS.ErrnoException) => error.code === "EADDRINUSE",
        );
        const udp = createSocket("udp4");
        await new Promise<void>((resolve, reject) => {
          udp.once("error", reject);
          udp.bind(taken, "127.0.0.1", resolve);
        });
        udp.close();
      } finally {
        holder.close();
      }
    });

    test("TCP is split the same way", async () => {
      assert.equal(addressIn(await askTcp(forwarder.port, makeQuery("host.corp.test"))), "198.19.1.10");
      assert.equal(addressIn(await askTcp(forwarder.port, makeQuery("pub.remote.test"))), "198.18.5.2");
    });

    test("new domains apply to the next query", async () => {
      forwarder.setDomains(["remote.test"]);
      try {
        assert.equal(addressIn(await askUdp(forwarder.port, makeQuery("pub.remote.test"))), "198.19.1.10");
        assert.equal(addressIn(await askUdp(forwarder.port, makeQuery("host.corp.test"))), "198.18.5.2");
      } finally {
        forwarder.setDomains(["corp.test", "19.198.in-addr.arpa"]);
      }
    });

    test("a query with two questions gets FORMERR; a short datagram is dropped; both are counted", async () => {
      const two = makeQuery("host.corp.test");
      two.writeUInt16BE(2, 4);
      assert.equal(rcodeOf(await askUdp(forwarder.port, two)), Rcode.FORMERR);
      const before = forwarder.counters.refused;
      await assert.rejects(askUdp(forwarder.port, Buffer.from([1, 2, 3])), /no UDP answer/);
      assert.equal(forwarder.counters.refused, before + 1);
      assert.equal(addressIn(await askUdp(forwarder.port, makeQuery("host.corp.test"))), "198.19.1.10");
    });

    test("a name of 255 bytes on the wire is relayed; one of 256 is refused, not relayed", async () => {
      // `a` * first, 3 labels of 59, `remote.test`: (1 + first) + 3 * (1 + 59) + 7 + 5 + the root's 0.
      const longName = (first: number) =>
        [`${"a".repeat(first)}`, ..."bcd".split("").map((c) => c.repeat(59)), "remote", "test"].join(".");
      const before = forwarder.counters;
      const fits = await askUdp(forwarder.port, makeQuery(longName(61)));
      assert.equal(addressIn(fits), "198.18.5.2", "255 bytes: relayed");
      const tooLong = makeQuery(longName(62));
      assert.equal(tooLong.length, 12 + 256 + 4);
      const refused = await askUdp(forwarder.port, tooLong).catch(() => null);
      assert.equal(refused === null ? null : rcodeOf(refused), Rcode.FORMERR, "256 bytes: FORMERR");
      assert.equal(
        forwarder.counters.viaRemote,
        before.viaRemote + 1,
        "only the 255-byte name went to the server",
      );
      assert.equal(forwarder.counters.refused, before.refused + 1);
    });
  });

for (const { native, expected } of relays)
  describe(`split forwarder's failover over UDP (relayed by ${expected})`, () => {
    test("a silent server hands over to the next after 2 s; a refusing one at once, SERVFAIL after the last", async () => {
      const answering = await fakeResolver("198.18.5.9");
      const silent = createSocket("udp4");
      await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", resolve));
      const closedPort: Upstream = { address: "127.0.0.1", port: 9 };
      const forwarder = await SplitForwarder.start({
        listen: "127.0.0.1",
        port: 0,
        domains: ["corp.test"],
        linkServers: [closedPort],
        remoteServers: [{ address: "127.0.0.1", port: silent.address().port }, answering.upstream],
        native,
      });
      try {
        const started = Date.now();
        assert.equal(addressIn(await askUdp(forwarder.port, makeQuery("pub.remote.test"))), "198.18.5.9");
        assert.ok(Date.now() - started >= 1_900, "the first server had its 2 s");
        const refused = await askUdp(forwarder.port, makeQuery("host.corp.test", { id: 0x4242 }));
        assert.equal(rcodeOf(refused), Rcode.SERVFAIL);
        assert.equal(refused.readUInt16BE(0), 0x4242);
        assert.equal(decodeAnswer(refused).questions?.[0]?.name, "host.corp.test");
        assert.equal(forwarder.counters.unanswered, 1);
        // Outside names that all refuse: SERVFAIL too, from whichever relay has them.
        const outside = await SplitForwarder.start({
          listen: "127.0.0.1",
          port: 0,
          domains: ["corp.test"],
          linkServers: [],
          remoteServers: [closedPort],
          native,
        });
        try {
          assert.equal(rcodeOf(await askUdp(outside.port, makeQuery("pub.remote.test"))), Rcode.SERVFAIL);
          assert.deepEqual(outside.counters, {
            viaLink: 0,
            viaRemote: 1,
            unanswered: 1,
            refused: 0,
            overloaded: 0,
          });
        } finally {
          await outside.close();
        }
      } finally {
        await forwarder.close();
        silent.close();
        await answering.close();
      }
    });
  });

describe("split forwarder's failover (TCP and the slow path)", () => {
  test("a server that times out hands over to the next; all unreachable is SERVFAIL, all silent is silence", async () => {
    const script = scriptedExchange((call) =>
      call.upstream === SERVER_A ? "timeout" : { answers: [a("pub.remote.test", "198.18.5.9")] },
    );
    const forwarder = await SplitForwarder.start({
      listen: "127.0.0.1",
      port: 0,
      domains: ["corp.test"],
      linkServers: [SERVER_A],
      remoteServers: [SERVER_A, SERVER_B],
      exchange: script.exchange,
    });
    try {
      const answer = await forwarder.handleQuery(makeQuery("pub.remote.test"), "udp");
      assert.equal(addressIn(answer ?? Buffer.alloc(0)), "198.18.5.9");
      assert.deepEqual(
        script.calls.map((call) => call.upstream),
        [SERVER_A, SERVER_B],
      );
      assert.equal(
        await forwarder.handleQuery(makeQuery("host.corp.test"), "udp"),
        null,
        "silent link: silence",
      );
      assert.equal(forwarder.counters.unanswered, 1);
    } finally {
      await forwarder.close();
    }

    const refusing = await SplitForwarder.start({
      listen: "127.0.0.1",
      port: 0,
      domains: ["corp.test"],
      linkServers: [{ address: "127.0.0.1", port: 9 }],
      remoteServers: [],
    });
    try {
      const answer = await refusing.handleQuery(makeQuery("host.corp.test", { id: 7 }), "udp");
      assert.ok(answer);
      assert.equal(rcodeOf(answer), Rcode.SERVFAIL, "port 9 refuses: SERVFAIL at once");
      assert.equal(answer.readUInt16BE(0), 7);
    } finally {
      await refusing.close();
    }
  });
});

/** A server on loopback that records each query's source port and id, and answers as `reply` says. */
async function recordingServer(reply: (query: Buffer) => Buffer[]): Promise<{
  upstream: Upstream;
  seen: { port: number; id: number }[];
  close(): void;
}> {
  const seen: { port: number; id: number }[] = [];
  const udp = createSocket("udp4");
  udp.on("message", (query, from) => {
    seen.push({ port: from.port, id: query.readUInt16BE(0) });
    for (const answer of reply(query)) udp.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  return { upstream: { address: "127.0.0.1", port: udp.address().port }, seen, close: () => udp.close() };
}

const openDescriptors = (): number => readdirSync("/proc/self/fd").length;

/** The answer to `query`'s A question: `address`. */
const answerA = (query: Buffer, address: string): Buffer =>
  makeResponse(query, { answers: [a(decodeAnswer(query).questions?.[0]?.name ?? "", address)] });

/** A forwarder with no split domain that relays in JavaScript (not the native thread) to `server`. */
const javascriptRelayTo = (server: Upstream): Promise<SplitForwarder> =>
  SplitForwarder.start({
    listen: "127.0.0.1",
    port: 0,
    domains: [],
    linkServers: [],
    remoteServers: [server],
    native: false,
  });

describe("the JavaScript relay against spoofed answers (the native relay's own tests: native/dns-relay.test.ts)", () => {
  test(
    "each query leaves from its own random port under a random id; every one is answered; nothing is left open",
    { skip: process.platform === "linux" ? false : "counts descriptors in /proc/self/fd" },
    async () => {
      const server = await recordingServer((query) => [answerA(query, "198.18.5.2")]);
      const before = openDescriptors();
      const forwarder = await javascriptRelayTo(server.upstream);
      try {
        for (let i = 0; i < 100; i++)
          assert.equal(addressIn(await askUdp(forwarder.port, makeQuery(`n${i}.remote.test`))), "198.18.5.2");
        const ports = new Set(server.seen.map((query) => query.port));
        assert.ok(ports.size >= 95, `100 queries left from ${ports.size} ports`);
        const ids = server.seen.map((query) => query.id);
        const sequential = ids.slice(1).filter((id, i) => id === ((ids[i]! + 1) & 0xffff)).length;
        assert.ok(sequential < 5, `${sequential} of 99 ids followed the one before`);
      } finally {
        await forwarder.close();
        server.close();
      }
      // Sockets close on the next turns.
      for (let waited = 0; openDescriptors() > before && waited < 2_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      // At most as many as before (another test's socket may close meanwhile), never more.
      assert.ok(openDescriptors() <= before, `${openDescriptors() - before} more descriptors than before`);
    },
  );

  test("an answer with the query's id but another question is not the answer: the right one that follows is", async () => {
    const server = await recordingServer((query) => {
      const forged = makeQuery("evil.example", { id: query.readUInt16BE(0) });
      return [
        makeResponse(forged, { answers: [a("evil.example", "198.18.66.66")] }),
        answerA(query, "198.18.5.2"),
      ];
    });
    const forwarder = await javascriptRelayTo(server.upstream);
    try {
      const answer = await askUdp(forwarder.port, makeQuery("pub.remote.test", { id: 0x1234 }));
      assert.equal(addressIn(answer), "198.18.5.2");
      assert.equal(answer.readUInt16BE(0), 0x1234);
    } finally {
      await forwarder.close();
      server.close();
    }
  });
});
