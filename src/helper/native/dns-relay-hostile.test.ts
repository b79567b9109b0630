// The native split DNS relay (src/dns_relay_linux.c) against hostile datagrams: valid-looking
// queries with hostile values from a local user, hostile answers from a server, floods, and close()
// or the finalizer while queries are in flight. Loopback only. Run it under AddressSanitizer with
// an instrumented build named by BACKHAUL_NATIVE_PATH and libasan in LD_PRELOAD.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, test } from "node:test";
import { a, decodeAnswer, makeQuery, makeResponse, rcodeOf } from "../engines/dns/test-support.js";
import { Rcode } from "../engines/dns/wire.js";
import type { NativeDnsRelay, NativeDnsRelayOptions, NativeDnsRelayStats } from "./addon-types.js";
import {
  DnsRelay,
  loopbackRelayOptions,
  relayWorld,
  skip,
  sleep,
  udpSocket,
  until,
} from "./dns-relay-test-world.js";

/** A query header (RD set) with `qdcount`, then `body` as given. */
function raw(
  body: readonly number[] | Buffer,
  options: { id?: number; qdcount?: number; flags?: number } = {},
): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x1234, 0);
  header.writeUInt16BE(options.flags ?? 0x0100, 2);
  header.writeUInt16BE(options.qdcount ?? 1, 4);
  return Buffer.concat([header, Buffer.from(body)]);
}

/** A name on the wire of exactly `bytes` bytes (labels, lengths and the root's 0). */
function nameOf(bytes: number): Buffer {
  const parts: Buffer[] = [];
  let left = bytes - 1;
  while (left > 0) {
    const label = Math.min(63, left - 1);
    assert.ok(label > 0, `no name of ${bytes} bytes this way`);
    parts.push(Buffer.from([label]), Buffer.alloc(label, 0x61 + (parts.length % 26)));
    left -= label + 1;
  }
  return Buffer.concat([...parts, Buffer.from([0])]);
}

const TYPE_A_IN = [0, 1, 0, 1];

describe("native DNS relay under hostile input", { skip }, () => {
  const { relays, socket } = relayWorld();
  const start = (
    servers: readonly number[],
    options: Partial<NativeDnsRelayOptions> = {},
    onQuery: (message: Buffer) => void = () => undefined,
  ): NativeDnsRelay => {
    assert.ok(DnsRelay);
    const relay = new DnsRelay(loopbackRelayOptions(servers, ["corp.test"], options), (message) =>
      onQuery(message),
    );
    relays.push(relay);
    return relay;
  };
  /** Answers every query it can decode with 198.18.5.2; remembers what came. */
  const answeringServer = () =>
    socket((query, { port }, server) => {
      try {
        const name = decodeAnswer(query).questions?.[0]?.name ?? "";
        server.send(makeResponse(query, { answers: [a(name, "198.18.5.2")] }), port, "127.0.0.1");
      } catch {
        // junk: nothing to answer
      }
    });

  test("hostile question names, counts and sizes go to JavaScript or to the server, and it keeps answering", async () => {
    const remote = await answeringServer();
    const toScript: Buffer[] = [];
    const relay = start([remote.port], {}, (message) => toScript.push(message));
    const client = await socket();
    const send = (message: Buffer) => client.socket.send(message, relay.port, "127.0.0.1");

    const pointerToItself = raw([0xc0, 0x0c, ...TYPE_A_IN]);
    const loop = raw([1, 0x61, 0xc0, 0x0c, ...TYPE_A_IN]);
    const forward = raw([0xc0, 0x20, ...TYPE_A_IN, ...Array(32).fill(0xc0)]); // past the end, into pointers
    const labels = Array.from({ length: 192 }, (_, i) =>
      raw([64 + i, ...Array(255).fill(0x61), 0, ...TYPE_A_IN]),
    );
    const dotInLabel = raw([3, 0x61, 0x2e, 0x62, 0, ...TYPE_A_IN]);
    const nulInLabel = raw([3, 0x61, 0x00, 0x62, 0, ...TYPE_A_IN]);
    const qdcounts = [0, 2, 65535].map((qdcount) =>
      raw([...makeQuery("pub.remote.test").subarray(12)], { qdcount }),
    );
    const response = raw([...makeQuery("pub.remote.test").subarray(12)], { flags: 0x8180 });
    const opcode = raw([...makeQuery("pub.remote.test").subarray(12)], { flags: 0x2900 });
    const valid = makeQuery("pub.remote.test");
    const truncatedQuestions = [13, 17, 18, valid.length - 4, valid.length - 1].map((n) =>
      valid.subarray(0, n),
    );
    const longest = raw([...nameOf(255), ...TYPE_A_IN]);
    const tooLong = [256, 257, 300, 319, 320, 400].map((bytes) => raw([...nameOf(bytes), ...TYPE_A_IN]));
    const endless = raw(Buffer.alloc(400, 1)); // labels of 1 byte "\x01" until the end: no terminator
    const bytes512 = Buffer.concat([
      makeQuery("big.remote.test"),
      Buffer.alloc(512 - makeQuery("big.remote.test").length),
    ]);
    const bytes513 = Buffer.concat([bytes512, Buffer.from([0])]);
    const bytes65507 = Buffer.concat([
      makeQuery("huge.remote.test"),
      Buffer.alloc(65507 - makeQuery("huge.remote.test").length, 0xff),
    ]);

    const toScriptExpected = [
      pointerToItself,
      loop,
      forward,
      ...labels,
      dotInLabel,
      nulInLabel,
      ...qdcounts,
      response,
      opcode,
      ...truncatedQuestions,
      ...tooLong,
      endless,
      bytes513,
      bytes65507,
    ];
    // In batches: a busy main thread (a sanitizer build, a loaded machine) would otherwise see the
    // relay drop some as overloaded, which is right but not what this test is about.
    for (let at = 0; at < toScriptExpected.length; at += 16) {
      for (const message of toScriptExpected.slice(at, at + 16)) send(message);
      const want = Math.min(at + 16, toScriptExpected.length);
      await until(() => toScript.length >= want, `${want} to JavaScript (${JSON.stringify(relay.stats())})`);
    }
    for (let n = 0; n < 12; n++) send(valid.subarray(0, n)); // not even a header, 0 bytes included
    await until(
      () => toScript.length === toScriptExpected.length,
      `${toScriptExpected.length} to JavaScript`,
    );
    assert.deepEqual(toScript, toScriptExpected, "JavaScript gets them as sent, in order");
    await until(() => relay.stats().refused === 12, "the 12 short ones refused");
    assert.equal(relay.stats().viaRemote, 0, "none of them reached the remote's server");
    assert.equal(remote.received.length, 0);

    // What the relay takes itself: the longest name, 512 bytes, ids 0 and 0xffff.
    const answers = new Map<number, Buffer>();
    const asker = await socket((message) => answers.set(message.readUInt16BE(0), message));
    const ask = (message: Buffer) => asker.socket.send(message, relay.port, "127.0.0.1");
    const ids = [0, 0xffff, 0x5555, 0x7777];
    const taken = [
      makeQuery("zero.remote.test", { id: 0 }),
      makeQuery("ffff.remote.test", { id: 0xffff }),
      longest,
      bytes512,
    ];
    taken[2]?.writeUInt16BE(0x5555, 0);
    taken[3]?.writeUInt16BE(0x7777, 0);
    for (const message of taken) ask(message);
    await until(() => answers.size === 4, "four answers");
    for (const [i, id] of ids.entries()) {
      const answer = answers.get(id);
      assert.ok(answer, `answer to id ${id}`);
      assert.equal(decodeAnswer(answer).answers?.length, 1, `id ${id} answered`);
      assert.equal(
        decodeAnswer(answer).questions?.[0]?.name,
        decodeAnswer(taken[i] ?? null).questions?.[0]?.name,
      );
    }
    assert.equal(relay.stats().viaRemote, 4);
    assert.equal(relay.stats().pending, 0);
  });

  test("hostile answers from the server: short, header only, compressed question, 65507 bytes; SERVFAIL for a 512-byte query", async () => {
    const remote = await socket((query, { port }, server) => {
      const reply = (message: Buffer) => server.send(message, port, "127.0.0.1");
      const id = query.readUInt16BE(0);
      const header = Buffer.from(query.subarray(0, 12));
      header.writeUInt16BE(0x8180, 2);
      reply(Buffer.alloc(0));
      reply(header.subarray(0, 11));
      reply(header); // our id, a response, no question
      const compressed = Buffer.concat([header, Buffer.from([0xc0, 0x0c, ...TYPE_A_IN])]);
      reply(compressed);
      const shortQuestion = Buffer.from(query.subarray(0, query.length - 1));
      shortQuestion.writeUInt16BE(0x8180, 2);
      reply(shortQuestion);
      const real = makeResponse(query, { answers: [a("pub.remote.test", "198.18.5.2")] });
      real.writeUInt16BE(id, 0);
      reply(Buffer.concat([real, Buffer.alloc(65507 - real.length, 0xee)]));
    });
    const relay = start([remote.port]);
    const client = await socket();
    client.socket.send(makeQuery("pub.remote.test", { id: 0xabcd }), relay.port, "127.0.0.1");
    await until(() => client.received.length === 1, "the one real answer");
    const answer = client.received[0]?.message;
    assert.ok(answer);
    assert.equal(answer.length, 65507, "relayed whole");
    assert.equal(answer.readUInt16BE(0), 0xabcd);
    assert.equal(relay.stats().strayAnswers, 5, "the five hostile ones counted and dropped");
    assert.equal(relay.stats().pending, 0);

    // Every server refuses: the SERVFAIL is built from a 512-byte query's question.
    const refusing = start([9, 9], { nextServerMs: 60_000, lastServerMs: 60_000 });
    const big = makeQuery("big.remote.test", { id: 0x4242 });
    const bytes512 = Buffer.concat([big, Buffer.alloc(512 - big.length)]);
    client.socket.send(bytes512, refusing.port, "127.0.0.1");
    await until(() => client.received.length === 2, "SERVFAIL");
    const servfail = client.received[1]?.message;
    assert.ok(servfail);
    assert.equal(rcodeOf(servfail), Rcode.SERVFAIL);
    assert.equal(servfail.readUInt16BE(0), 0x4242);
    assert.equal(servfail.length, big.length, "the header and the question alone");
  });

  test("a flood from 64 source ports, then close() during it: no crash, nothing for JavaScript after close", async () => {
    const silent = await socket();
    let toScript = 0;
    const relay = start(
      [silent.port],
      { nextServerMs: 50, lastServerMs: 100, maxPending: 4_096 },
      () => toScript++,
    );
    const clients = await Promise.all(Array.from({ length: 64 }, () => udpSocket()));
    let flooding = true;
    let sent = 0;
    const flood = async () => {
      for (let round = 0; flooding; round++) {
        for (const [index, client] of clients.entries()) {
          const id = (round * 64 + index) & 0xffff;
          const name = id % 4 === 0 ? `x${id}.corp.test` : `n${id}.remote.test`;
          client.socket.send(makeQuery(name, { id }), relay.port, "127.0.0.1");
          sent++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const flooded = flood();
    await until(
      () => relay.stats().pendingPeak > 100 && toScript > 100,
      "the flood reached both paths",
      10_000,
    );
    relay.close();
    const atClose = toScript;
    const pendingAtClose = relay.stats().pending;
    await sleep(300);
    flooding = false;
    await flooded;
    for (const client of clients) client.socket.close();
    assert.equal(toScript, atClose, "nothing handed to JavaScript after close()");
    assert.ok(pendingAtClose <= 4_096);
    assert.ok(relay.stats().pendingPeak <= 4_096, `peak ${relay.stats().pendingPeak}`);
    assert.equal(relay.send(Buffer.from("late"), "127.0.0.1", silent.port), false);
    assert.ok(sent > 1_000, `sent ${sent}`);
    relay.close();
  });

  test("1,000 queries to a silent server with RLIMIT_NOFILE at 64: opens that fail are counted, queries share, the next answer comes, nothing leaks", async () => {
    // In a child, whose limit prlimit lowers: the kernel's EMFILE, not the relay's own bound.
    const remote = await socket((query, { port }, server) => {
      if (decodeAnswer(query).questions?.[0]?.name === "after.remote.test")
        server.send(
          makeResponse(query, { answers: [a("after.remote.test", "198.18.5.2")] }),
          port,
          "127.0.0.1",
        );
    });
    const child = spawn(
      "prlimit",
      [
        "--nofile=64:64",
        process.execPath,
        "--import",
        "tsx",
        fileURLToPath(new URL("./dns-relay-fd-limit-child.ts", import.meta.url)),
        String(remote.port),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill(), 30_000);
      child.on("close", (exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
    });
    assert.equal(code, 0, `the child exited cleanly: ${stderr}`);
    const report = JSON.parse(stdout) as {
      burst: NativeDnsRelayStats;
      final: NativeDnsRelayStats;
      answered: boolean;
      leftOpen: string[];
    };
    const { burst } = report;
    assert.ok(burst.viaRemote > 64, `${burst.viaRemote} taken`);
    assert.ok(burst.socketFailures > 0, "EMFILE counted");
    assert.ok(burst.sharedPorts > 0 && burst.sharedPorts <= burst.viaRemote, `${burst.sharedPorts} shared`);
    assert.ok(burst.queryPorts < 64, `${burst.queryPorts} query sockets open`);
    assert.ok(report.answered, "the next query answered once the server answers");
    assert.equal(report.final.answered, 1);
    assert.deepEqual(report.leftOpen, [], "close() closed every socket");
  });

  test("close() from inside onQuery while more datagrams wait for JavaScript", async () => {
    let calls = 0;
    let relay: NativeDnsRelay | undefined;
    relay = start([], {}, () => {
      calls++;
      relay?.close();
    });
    const client = await socket();
    for (let i = 0; i < 200; i++) client.socket.send(makeQuery(`h${i}.corp.test`), relay.port, "127.0.0.1");
    await until(() => calls > 0, "the first call");
    await sleep(200);
    assert.equal(calls, 1, "no call after close()");
    relay = undefined;
  });

  test("a relay dropped without close() while queries are in flight: the finalizer stops it and frees the port", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const silent = await socket();
    const client = await socket();
    let port = 0;
    (() => {
      assert.ok(DnsRelay);
      const relay = new DnsRelay(
        {
          listen: "127.0.0.1",
          port: 0,
          servers: [{ address: "127.0.0.1", port: silent.port }],
          nextServerMs: 60_000,
          lastServerMs: 60_000,
          maxPending: 64,
          domains: ["corp.test"],
        },
        () => undefined,
      );
      port = relay.port;
      for (let i = 0; i < 100; i++) {
        client.socket.send(makeQuery(`n${i}.remote.test`), port, "127.0.0.1");
        client.socket.send(makeQuery(`n${i}.corp.test`), port, "127.0.0.1");
      }
    })();
    await until(() => silent.received.length >= 64, "the table full");
    const free = async (): Promise<boolean> => {
      const probe = createSocket("udp4");
      try {
        await new Promise<void>((resolve, reject) => {
          probe.once("error", reject);
          probe.bind(port, "127.0.0.1", resolve);
        });
        return true;
      } catch {
        return false;
      } finally {
        probe.close();
      }
    };
    let freed = false;
    for (let i = 0; i < 50 && !freed; i++) {
      gc();
      await sleep(50);
      freed = await free();
    }
    assert.ok(freed, "the port was freed by the finalizer");
  });
});
