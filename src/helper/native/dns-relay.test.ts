// The native split DNS relay (src/dns_relay_linux.c) through the addon, on real UDP sockets: stand-in
// servers and clients on this machine's loopback.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { describe, test } from "node:test";
import { a, decodeAnswer, makeQuery, makeResponse, rcodeOf } from "../engines/dns/test-support.js";
import { Rcode } from "../engines/dns/wire.js";
import type { NativeDnsRelay, NativeDnsRelayOptions } from "./addon-types.js";
import {
  DnsRelay,
  loopbackRelayOptions,
  noLoopbackV6,
  openDescriptors,
  openedSince,
  relayWorld,
  skip,
  sleep,
  udpSocket,
  until,
} from "./dns-relay-test-world.js";

/** A stand-in server that answers every A question with `address`, and ignores what it cannot decode. */
function answering(address: string): Parameters<typeof udpSocket>[0] {
  return (query, from, socket) => {
    let answer: Buffer;
    try {
      const name = decodeAnswer(query).questions?.[0]?.name ?? "";
      answer = makeResponse(query, { answers: [a(name, address)] });
    } catch {
      return; // junk the relay passed on: its question reads, the rest need not
    }
    socket.send(answer, from.port, from.address);
  };
}

/** Sends `query` from a fresh socket to the relay; the first datagram back, or null after `waitMs`. */
async function ask(port: number, query: Buffer, waitMs = 3_000, host = "127.0.0.1"): Promise<Buffer | null> {
  const client = await udpSocket(undefined, host);
  try {
    return await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      client.socket.once("message", (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      client.socket.send(query, port, host);
    });
  } finally {
    client.socket.close();
  }
}

function addressIn(answer: Buffer | null): unknown {
  const record = answer === null ? undefined : decodeAnswer(answer).answers?.[0];
  return record !== undefined && "data" in record ? record.data : undefined;
}

/** Sends `query` from `client` to the relay; the answer with the query's id. */
async function exchange(
  client: Awaited<ReturnType<typeof udpSocket>>,
  port: number,
  query: Buffer,
): Promise<Buffer> {
  const id = query.readUInt16BE(0);
  const seen = client.received.length;
  client.socket.send(query, port, "127.0.0.1");
  await until(
    () => client.received.slice(seen).some(({ message }) => message.readUInt16BE(0) === id),
    `the answer to ${id}`,
  );
  const answer = client.received.slice(seen).find(({ message }) => message.readUInt16BE(0) === id);
  assert.ok(answer);
  return answer.message;
}

type Delivered = { message: Buffer; address: string; port: number };

/** A relay on 127.0.0.1 with `servers`; what it hands to JavaScript lands in `delivered`. */
function startRelay(
  servers: readonly number[],
  options: Partial<NativeDnsRelayOptions> = {},
): { relay: NativeDnsRelay; delivered: Delivered[] } {
  assert.ok(DnsRelay);
  const delivered: Delivered[] = [];
  const relay = new DnsRelay(
    loopbackRelayOptions(servers, ["corp.test", "19.198.in-addr.arpa"], options),
    (message, address, port) => delivered.push({ message, address, port }),
  );
  return { relay, delivered };
}

/** Once the relay has counted everything sent to it: its counts stay the same for 200 ms. */
async function settled(relay: NativeDnsRelay): Promise<void> {
  const total = (): number => {
    const stats = relay.stats();
    return stats.viaRemote + stats.toScript + stats.overloaded + stats.refused;
  };
  for (let last = -1, now = total(); now !== last; last = now, now = total())
    await new Promise((resolve) => setTimeout(resolve, 200));
}

describe("native DNS relay", { skip }, () => {
  const { sockets, relays, socket: server } = relayWorld();
  const relayWith = (servers: readonly number[], options?: Partial<NativeDnsRelayOptions>) => {
    const made = startRelay(servers, options);
    relays.push(made.relay);
    return made;
  };

  test("an outside name goes to the server byte for byte under a random id, the answer back under the client's", async () => {
    // The answer carries more than the question: every byte but the id must come back as sent.
    const remote = await server((query, from, socket) => {
      const answer = makeResponse(query, {
        answers: [a("pub.remote.test", "198.18.5.2"), a("pub.remote.test", "198.18.5.3")],
      });
      socket.send(answer, from.port, from.address);
    });
    const { relay, delivered } = relayWith([remote.port]);
    const query = makeQuery("Pub.Remote.Test", { id: 0xbeef, edns: { udpPayloadSize: 1232 } });
    const answer = await ask(relay.port, query);
    assert.ok(answer, "answered");
    assert.equal(answer.readUInt16BE(0), 0xbeef, "the client's id");
    const sent = remote.received[0]?.message;
    assert.ok(sent);
    assert.deepEqual(sent.subarray(2), query.subarray(2), "the query went out byte for byte but for the id");
    const expected = makeResponse(sent, {
      answers: [a("pub.remote.test", "198.18.5.2"), a("pub.remote.test", "198.18.5.3")],
    });
    assert.deepEqual(
      answer.subarray(2),
      expected.subarray(2),
      "the answer came back byte for byte but for the id",
    );
    assert.equal(delivered.length, 0, "nothing for JavaScript");

    // The same client id every time: the ids the server sees are not a sequence.
    for (let i = 0; i < 32; i++) await ask(relay.port, makeQuery(`n${i}.remote.test`, { id: 7 }));
    const ids = remote.received.slice(1).map((received) => received.message.readUInt16BE(0));
    assert.equal(ids.length, 32);
    const steps = new Set(ids.slice(1).map((id, i) => (id - (ids[i] ?? 0)) & 0xffff));
    assert.ok(steps.size > 8, `ids look random: ${ids.join(" ")}`);
    const stats = relay.stats();
    assert.equal(stats.viaRemote, 33);
    assert.equal(stats.answered, 33);
    assert.equal(stats.pending, 0);
  });

  test("names under the domains, and queries it cannot read in place, go to JavaScript, which answers with send()", async () => {
    const remote = await server(answering("198.18.5.2"));
    const { relay, delivered } = relayWith([remote.port], { domains: ["corp.test"] });
    const client = await udpSocket();
    sockets.push(client.socket);
    const twoQuestions = makeQuery("pub.remote.test");
    twoQuestions.writeUInt16BE(2, 4);
    const queries = [
      makeQuery("host.corp.test"),
      makeQuery("CORP.TEST"),
      twoQuestions,
      makeQuery("pub.remote.test", { id: 9 }),
    ];
    for (const query of queries) client.socket.send(query, relay.port, "127.0.0.1");
    await until(
      () => delivered.length === 3 && client.received.length === 1,
      "three to JavaScript, one answered",
    );
    assert.deepEqual(
      delivered.map((entry) => entry.message),
      queries.slice(0, 3),
      "JavaScript gets the datagrams as sent",
    );
    assert.deepEqual(
      delivered.map((entry) => [entry.address, entry.port]),
      Array(3).fill(["127.0.0.1", client.port]),
    );
    assert.equal(addressIn(client.received[0]?.message ?? null), "198.18.5.2");
    assert.equal(remote.received.length, 1, "only the outside name reached the remote's server");

    assert.equal(relay.send(Buffer.from("answer from JavaScript"), "127.0.0.1", client.port), true);
    await until(() => client.received.length === 2, "send() reaches the client");
    assert.equal(client.received[1]?.message.toString(), "answer from JavaScript");
    assert.equal(client.received[1]?.from.port, relay.port, "from the relay's own socket");

    // New domains apply to the next datagram.
    relay.setDomains(["remote.test"]);
    client.socket.send(makeQuery("pub.remote.test"), relay.port, "127.0.0.1");
    await until(() => delivered.length === 4, "now under a split domain");
    const stats = relay.stats();
    assert.equal(stats.toScript, 4);
    assert.equal(stats.viaRemote, 1);
  });

  test("a silent server hands over to the next; a refusing one at once; SERVFAIL when all refuse, silence when all are silent", async () => {
    const silent = await server();
    const remote = await server(answering("198.18.5.9"));
    const { relay } = relayWith([silent.port, remote.port], { nextServerMs: 300 });
    assert.equal(addressIn(await ask(relay.port, makeQuery("pub.remote.test"))), "198.18.5.9");
    assert.equal(silent.received.length, 1, "the silent server had it first");

    // Port 9 on loopback refuses (ICMP port unreachable): no wait for it.
    const refusing = relayWith([9, 9], { nextServerMs: 60_000, lastServerMs: 60_000 }).relay;
    const refused = await ask(refusing.port, makeQuery("pub.remote.test", { id: 0x4242 }), 10_000);
    assert.ok(refused, "answered well before the 60 s timeouts");
    assert.equal(rcodeOf(refused), Rcode.SERVFAIL);
    assert.equal(refused.readUInt16BE(0), 0x4242);
    assert.equal(decodeAnswer(refused).questions?.[0]?.name, "pub.remote.test");
    assert.equal(refusing.stats().unanswered, 1);

    const allSilent = relayWith([silent.port], { lastServerMs: 200 }).relay;
    assert.equal(await ask(allSilent.port, makeQuery("pub.remote.test"), 1_500), null, "silence");
    await until(() => allSilent.stats().unanswered === 1, "counted as unanswered");
    assert.equal(allSilent.stats().pending, 0);
  });

  test("answers with another id or question, or from another port, are dropped; the real one is relayed", async () => {
    const spoofer = await server();
    const remote = await server((query, from, socket) => {
      const wrongId = makeResponse(query, { answers: [a("pub.remote.test", "198.18.6.1")] });
      wrongId.writeUInt16BE((query.readUInt16BE(0) + 1) & 0xffff, 0);
      const otherQuestion = makeResponse(makeQuery("other.remote.test", { id: query.readUInt16BE(0) }), {
        answers: [a("other.remote.test", "198.18.6.2")],
      });
      const notAnAnswer = Buffer.from(query);
      const fromElsewhere = makeResponse(query, { answers: [a("pub.remote.test", "198.18.6.3")] });
      for (const spoof of [wrongId, otherQuestion, notAnAnswer]) socket.send(spoof, from.port, from.address);
      spoofer.socket.send(fromElsewhere, from.port, from.address);
      setTimeout(() => {
        const real = makeResponse(query, { answers: [a("pub.remote.test", "198.18.5.2")] });
        socket.send(real, from.port, from.address);
      }, 100);
    });
    const { relay } = relayWith([remote.port]);
    assert.equal(addressIn(await ask(relay.port, makeQuery("pub.remote.test"))), "198.18.5.2");
    const stats = relay.stats();
    assert.equal(stats.strayAnswers, 3, "wrong id, wrong question, not a response: counted");
    assert.equal(stats.answered, 1, "the answer from another port never reached the relay");
  });

  test("a flood of 10,000 queries from many source ports never holds more than maxPending", async () => {
    const silent = await server();
    const { relay, delivered } = relayWith([silent.port], { nextServerMs: 60_000, lastServerMs: 60_000 });
    const clients = await Promise.all(Array.from({ length: 100 }, () => udpSocket()));
    sockets.push(...clients.map((client) => client.socket));
    let peakSeen = 0;
    for (const [index, client] of clients.entries()) {
      for (let i = 0; i < 100; i++) {
        const name = i % 10 === 0 ? `x${i}.corp.test` : `n${index}-${i}.remote.test`;
        client.socket.send(makeQuery(name, { id: i }), relay.port, "127.0.0.1");
      }
      await new Promise((resolve) => setImmediate(resolve));
      peakSeen = Math.max(peakSeen, relay.stats().pending);
    }
    // The stand-in server is this process, as busy as the sender: the kernel drops what it cannot
    // take, so the relay's own counts tell what was forwarded.
    await settled(relay);
    const stats = relay.stats();
    assert.ok(
      peakSeen <= 4_096 && stats.pendingPeak === 4_096,
      `peak ${stats.pendingPeak}, seen ${peakSeen}`,
    );
    assert.equal(stats.pending, 4_096);
    assert.equal(stats.viaRemote, 4_096, "past the bound nothing is forwarded");
    assert.ok(stats.overloaded > 0, "the rest are dropped and counted");
    assert.ok(delivered.length <= 1_000, "the names under the domains went to JavaScript, within its queue");
    assert.ok(stats.viaRemote + stats.toScript + stats.overloaded <= 10_000, "every datagram counted once");
  });

  test("malformed datagrams never stop it; close() stops the thread and frees the port", async () => {
    const remote = await server(answering("198.18.5.2"));
    const { relay } = relayWith([remote.port]);
    const client = await udpSocket();
    sockets.push(client.socket);
    const valid = makeQuery("pub.remote.test");
    for (let i = 0; i < 2_000; i++) {
      const length = i % 50;
      const junk =
        i % 2 === 0 ? randomBytes(length) : Buffer.concat([valid.subarray(0, length), randomBytes(8)]);
      client.socket.send(junk, relay.port, "127.0.0.1");
    }
    await settled(relay);
    assert.equal(addressIn(await ask(relay.port, valid)), "198.18.5.2", "still answers");
    assert.ok(relay.stats().refused > 0, "datagrams shorter than a header are counted");

    const port = relay.port;
    relay.close();
    relay.close();
    assert.equal(
      relay.send(Buffer.from("late"), "127.0.0.1", client.port),
      false,
      "nothing sent after close",
    );
    const again = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.bind(port, "127.0.0.1", resolve);
    });
    again.close();
  });

  test("over IPv6 on ::1", { skip: noLoopbackV6 }, async () => {
    const remote = await udpSocket(answering("2001:db8::2"), "::1");
    sockets.push(remote.socket);
    assert.ok(DnsRelay);
    const relay = new DnsRelay(
      {
        listen: "::1",
        port: 0,
        servers: [{ address: "::1", port: remote.port }],
        domains: [],
        nextServerMs: 2_000,
        lastServerMs: 5_000,
        maxPending: 16,
      },
      () => undefined,
    );
    relays.push(relay);
    const answer = await ask(relay.port, makeQuery("pub.remote.test", { id: 0x6666 }), 3_000, "::1");
    assert.equal(answer?.readUInt16BE(0), 0x6666);
    assert.equal(decodeAnswer(answer).answers?.length, 1);
  });

  test("each query leaves from a port of its own, every one answered; close() leaves no socket open", async () => {
    const remote = await server(answering("198.18.5.2"));
    const client = await server();
    const before = openDescriptors();
    assert.ok(DnsRelay);
    // Not in relayWorld: closed here, before the descriptors are counted again.
    const relay = new DnsRelay(loopbackRelayOptions([remote.port], ["corp.test"]), () => undefined);
    for (let i = 0; i < 100; i++) {
      const answer = await exchange(client, relay.port, makeQuery(`n${i}.remote.test`, { id: i }));
      assert.equal(addressIn(answer), "198.18.5.2", `answer ${i}`);
    }
    const ports = new Set(remote.received.map(({ from }) => from.port));
    assert.equal(remote.received.length, 100);
    assert.ok(ports.size >= 95, `100 queries left from ${ports.size} distinct ports`);
    assert.ok(!ports.has(relay.port), "never from the listening socket");
    const stats = relay.stats();
    assert.equal(stats.answered, 100);
    assert.equal(stats.sharedPorts, 0);
    // Ready in the pool, or waiting to be connected again on a new port: RELAY_POOL (4) of each at most.
    assert.ok(stats.queryPorts <= 8, `${stats.queryPorts} query sockets open between queries`);
    relay.close();
    assert.deepEqual(openedSince(before), [], "every socket of the relay closed");
  });

  test("an answer to a port the query left, on another query's port, or from another port, is not delivered", async () => {
    const spoofer = await server();
    let firstPort = 0;
    const remote = await server((query, from, socket) => {
      const name = decodeAnswer(query).questions?.[0]?.name ?? "";
      if (name === "one.remote.test") {
        firstPort = from.port;
        socket.send(makeResponse(query, { answers: [a(name, "198.18.5.1")] }), from.port, from.address);
        return;
      }
      const two = remote.received.find(
        ({ message }) => decodeAnswer(message).questions?.[0]?.name === "two.remote.test",
      );
      const three = remote.received.find(
        ({ message }) => decodeAnswer(message).questions?.[0]?.name === "three.remote.test",
      );
      if (two === undefined || three === undefined) return; // both in flight first
      const forged = (address: string) =>
        makeResponse(two.message, { answers: [a("two.remote.test", address)] });
      socket.send(forged("198.18.6.1"), firstPort, "127.0.0.1"); // the port "one" left
      socket.send(forged("198.18.6.2"), three.from.port, "127.0.0.1"); // three's port
      spoofer.socket.send(forged("198.18.6.3"), two.from.port, "127.0.0.1"); // not from the server's port
      setTimeout(() => {
        socket.send(
          makeResponse(two.message, { answers: [a("two.remote.test", "198.18.5.2")] }),
          two.from.port,
        );
        socket.send(
          makeResponse(three.message, { answers: [a("three.remote.test", "198.18.5.3")] }),
          three.from.port,
        );
      }, 100);
    });
    const { relay } = relayWith([remote.port]);
    const client = await server();
    assert.equal(
      addressIn(await exchange(client, relay.port, makeQuery("one.remote.test", { id: 1 }))),
      "198.18.5.1",
    );
    client.socket.send(makeQuery("two.remote.test", { id: 2 }), relay.port, "127.0.0.1");
    client.socket.send(makeQuery("three.remote.test", { id: 3 }), relay.port, "127.0.0.1");
    await until(() => client.received.length >= 3, "both answered");
    await sleep(200);
    assert.deepEqual(
      client.received.map(({ message }) => [message.readUInt16BE(0), addressIn(message)]),
      [
        [1, "198.18.5.1"],
        [2, "198.18.5.2"],
        [3, "198.18.5.3"],
      ],
      "only the real answers, each once",
    );
    const stats = relay.stats();
    assert.equal(stats.answered, 3);
    // On three's socket: counted. To the old port: dropped by the kernel (or, were the port taken
    // again by a socket in the pool, counted).
    assert.ok(stats.strayAnswers >= 1 && stats.strayAnswers <= 2, `stray ${stats.strayAnswers}`);
  });

  test("1,000 queries to a silent server hold at most 256 query sockets; the rest share one, counted; it answers when the server does", async () => {
    let answering = false;
    const remote = await server((query, from, socket) => {
      if (answering) socket.send(makeResponse(query, { answers: [] }), from.port, from.address);
    });
    const client = await server();
    const before = openDescriptors();
    assert.ok(DnsRelay);
    const relay = new DnsRelay(
      loopbackRelayOptions([remote.port], [], { nextServerMs: 60_000, lastServerMs: 60_000 }),
      () => undefined,
    );
    for (let i = 0; i < 1_000; i++)
      client.socket.send(makeQuery(`burst${i}.remote.test`, { id: i }), relay.port, "127.0.0.1");
    await settled(relay);
    const burst = relay.stats();
    assert.ok(burst.viaRemote > 256, `${burst.viaRemote} taken`);
    assert.ok(burst.queryPorts <= 256, `${burst.queryPorts} query sockets open`);
    const opened = openedSince(before).length;
    assert.ok(
      opened <= 256 + 4,
      `${opened} descriptors: the query sockets, and the socket, eventfd, timerfd and epoll`,
    );
    assert.ok(
      burst.sharedPorts >= burst.viaRemote - 256,
      `${burst.sharedPorts} of ${burst.viaRemote} queries shared a port`,
    );
    assert.equal(burst.socketFailures, 0);
    assert.ok(new Set(remote.received.map(({ from }) => from.port)).size <= 256);

    answering = true;
    const answer = await exchange(client, relay.port, makeQuery("after.remote.test", { id: 0xafaf }));
    assert.equal(rcodeOf(answer), Rcode.NOERROR);
    relay.close();
    assert.deepEqual(openedSince(before), [], "every socket of the relay closed");
  });

  test("bad options are refused with an error that says which", () => {
    const Relay = DnsRelay;
    assert.ok(Relay);
    const base: NativeDnsRelayOptions = {
      listen: "127.0.0.1",
      port: 0,
      servers: [],
      domains: [],
      nextServerMs: 2_000,
      lastServerMs: 5_000,
      maxPending: 16,
    };
    assert.throws(
      () => new Relay({ ...base, listen: "not an address" }, () => undefined),
      /not an IP address/,
    );
    assert.throws(() => new Relay({ ...base, maxPending: 0 }, () => undefined), /maxPending/);
    const nine = Array.from({ length: 9 }, () => ({ address: "127.0.0.1", port: 53 }));
    assert.throws(() => new Relay({ ...base, servers: nine }, () => undefined), /at most 8 servers/);
    const taken = new Relay(base, () => undefined);
    relays.push(taken);
    assert.throws(
      () => new Relay({ ...base, port: taken.port }, () => undefined),
      (error: NodeJS.ErrnoException) => error.code === "EADDRINUSE" && error.syscall === "bind",
    );
  });
});
