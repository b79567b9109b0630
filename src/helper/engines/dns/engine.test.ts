import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DnsRow } from "../../../shared/dns-row.js";
import { DnsEngine, type DnsEngineOptions } from "./engine.js";
import type { AddressLookup } from "./os-lookup.js";
import {
  a,
  decodeAnswer,
  isTruncated,
  makeQuery,
  optOf,
  plain,
  notFoundLookup,
  rcodeOf,
  scriptedEngine,
  scriptedExchange,
  SERVER_A,
  SERVER_B,
  soa,
  type Script,
} from "./test-support.js";

function engineWith(script: Script, options: DnsEngineOptions = {}) {
  return scriptedEngine(script, [SERVER_A, SERVER_B], options);
}

function rows(engine: DnsEngine): DnsRow[] {
  return engine.table.snapshot();
}

describe("DnsEngine forwarding", () => {
  test("forwards to the first resolver and keeps the remote's id and name case", async () => {
    const { engine, calls } = engineWith(() => ({ answers: [a("host.corp.test", "198.19.1.10")] }));
    const answer = await engine.handleQuery(makeQuery("HoSt.Corp.TEST", { id: 4242 }), "udp");
    const decoded = decodeAnswer(answer);
    assert.equal(decoded.id, 4242);
    assert.equal(decoded.questions[0]?.name, "HoSt.Corp.TEST");
    assert.deepEqual(
      decoded.answers.map((record) => [plain(record).type, plain(record).data]),
      [["A", "198.19.1.10"]],
    );
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.upstream, SERVER_A);
    assert.equal(calls[0]?.protocol, "udp");
    assert.notEqual(calls[0]?.query.id, 4242, "the upstream query has its own random id");
    const [row] = rows(engine);
    assert.equal(row?.name, "host.corp.test");
    assert.equal(row?.type, "A");
    assert.deepEqual(row?.answers, ["198.19.1.10"]);
    assert.equal(row?.ttl, 300);
    assert.equal(row?.rcode, "NOERROR");
    assert.equal(row?.resolver, "198.18.0.53:53 udp");
    assert.equal(row?.transport, "udp");
  });

  test("a timeout moves on to the next resolver", async () => {
    const { engine, calls } = engineWith(({ upstream }) =>
      upstream === SERVER_A ? "timeout" : { answers: [a("x.test", "198.18.5.5")] },
    );
    const answer = decodeAnswer(await engine.handleQuery(makeQuery("x.test"), "udp"));
    assert.equal(answer.answers.length, 1);
    assert.deepEqual(
      calls.map((call) => call.upstream),
      [SERVER_A, SERVER_B],
    );
    assert.equal(rows(engine)[0]?.resolver, "[2001:db8::53]:53 udp");
    assert.equal(engine.counters.upstreamFailures, 1);
  });

  test("SERVFAIL and REFUSED move on; when every resolver fails the answer is SERVFAIL", async () => {
    const { engine, calls } = engineWith(({ upstream }) => ({ rcode: upstream === SERVER_A ? 2 : 5 }));
    const answer = await engine.handleQuery(makeQuery("broken.test", { type: "MX" }), "udp");
    assert.ok(answer);
    assert.equal(rcodeOf(answer), 2);
    assert.equal(calls.length, 2, "resolvers that answered are not asked again");
    const [row] = rows(engine);
    assert.equal(row?.rcode, "SERVFAIL");
    assert.match(row?.detail ?? "", /SERVFAIL.*REFUSED/);
  });

  test("resolvers that time out get a second round", async () => {
    const { engine, calls } = engineWith(() => "timeout");
    const answer = await engine.handleQuery(makeQuery("down.test", { type: "TXT" }), "udp");
    assert.ok(answer);
    assert.equal(rcodeOf(answer), 2);
    assert.equal(calls.length, 4);
  });

  test("a truncated UDP answer is asked again over TCP", async () => {
    const big = Array.from({ length: 8 }, (_, index) => ({
      type: "TXT",
      name: "big.test",
      ttl: 60,
      data: `${index}`.padEnd(240, "x"),
    }));
    const { engine, calls } = engineWith(({ protocol }) =>
      protocol === "udp" ? { truncated: true } : { answers: big },
    );
    const viaTcp = decodeAnswer(await engine.handleQuery(makeQuery("big.test", { type: "TXT" }), "tcp"));
    assert.equal(viaTcp.answers.length, 8);
    assert.deepEqual(
      calls.map((call) => call.protocol),
      ["tcp"],
      "a query that came over TCP goes upstream over TCP",
    );
    engine.close();

    const second = engineWith(({ protocol }) =>
      protocol === "udp" ? { truncated: true } : { answers: big },
    );
    const answer = await second.engine.handleQuery(
      makeQuery("big.test", { type: "TXT", edns: { udpPayloadSize: 4096 } }),
      "udp",
    );
    assert.ok(answer);
    assert.ok(isTruncated(answer), "too large for the remote's UDP: TC=1");
    assert.equal(decodeAnswer(answer).answers.length, 0);
    assert.deepEqual(
      second.calls.map((call) => call.protocol),
      ["udp", "tcp"],
    );
    assert.equal(second.engine.counters.upstreamTruncated, 1);
    assert.equal(second.engine.counters.truncated, 1);
    // The remote retries over TCP and gets it from the cache, complete.
    const retry = decodeAnswer(
      await second.engine.handleQuery(makeQuery("big.test", { type: "TXT" }), "tcp"),
    );
    assert.equal(retry.answers.length, 8);
    assert.equal(second.calls.length, 2);
  });

  test("a resolver that does not take TCP is asked over UDP after all", async () => {
    const { engine, calls } = engineWith(({ protocol }) =>
      protocol === "tcp" ? "timeout" : { answers: [a("udp-only.test", "198.18.7.7")] },
    );
    const answer = decodeAnswer(await engine.handleQuery(makeQuery("udp-only.test"), "tcp"));
    assert.equal(plain(answer.answers[0]).data, "198.18.7.7");
    assert.deepEqual(
      calls.map((call) => call.protocol),
      ["tcp", "udp"],
    );
    const [row] = rows(engine);
    assert.equal(row?.resolver, "198.18.0.53:53 udp");
    assert.match(row?.detail ?? "", /TCP failed/);
  });

  test("without EDNS an answer over 512 bytes is truncated; the OPT record is dropped", async () => {
    const records = Array.from({ length: 40 }, (_, index) => a("many.test", `198.18.1.${index + 1}`));
    const { engine } = engineWith(() => ({ answers: records }));
    const withEdns = decodeAnswer(
      await engine.handleQuery(makeQuery("many.test", { edns: { udpPayloadSize: 1232 } }), "udp"),
    );
    assert.equal(withEdns.answers.length, 40);
    assert.equal(withEdns.additionals.filter((record) => record.type === "OPT").length, 1);
    const classic = await engine.handleQuery(makeQuery("many.test"), "udp");
    assert.ok(classic && isTruncated(classic));
    const few = decodeAnswer(
      await new DnsEngine({
        resolvers: [SERVER_A],
        exchange: scriptedExchange(() => ({ answers: records.slice(0, 3) })).exchange,
        lookup: notFoundLookup,
      }).handleQuery(makeQuery("few.test"), "udp"),
    );
    assert.equal(few.answers.length, 3);
    assert.equal(few.additionals.length, 0, "no OPT for a query without one");
  });

  test("an EDNS query gets an OPT record even when the resolver sent none", async () => {
    const { engine } = engineWith(() => ({ answers: [a("plain.test", "198.18.9.9")], echoOpt: false }));
    const answer = decodeAnswer(
      await engine.handleQuery(makeQuery("plain.test", { edns: { dnssecOk: true } }), "udp"),
    );
    assert.ok(optOf(answer));
    assert.equal(answer.answers.length, 1);
  });

  test("no resolvers configured: SERVFAIL with a reason", async () => {
    const { engine } = engineWith(() => ({}), { resolvers: [] });
    const answer = await engine.handleQuery(makeQuery("x.test", { type: "TXT" }), "udp");
    assert.ok(answer);
    assert.equal(rcodeOf(answer), 2);
    assert.match(rows(engine)[0]?.detail ?? "", /no DNS resolvers/);
  });

  test("an answer for another question is not accepted", async () => {
    const { engine } = engineWith(({ upstream }, raw) =>
      upstream === SERVER_A
        ? Buffer.concat([
            raw.subarray(0, 2),
            Buffer.from([0x81, 0x80]),
            raw.subarray(4, 13),
            Buffer.from("z"),
          ])
        : { answers: [a("q.test", "198.18.2.2")] },
    );
    const answer = decodeAnswer(await engine.handleQuery(makeQuery("q.test"), "udp"));
    assert.equal(answer.answers.length, 1);
    assert.equal(rows(engine)[0]?.resolver, "[2001:db8::53]:53 udp");
  });
});

describe("DnsEngine malformed and unsupported queries", () => {
  test("garbage with a readable header gets FORMERR with the id echoed", async () => {
    const { engine, calls } = engineWith(() => ({}));
    const garbage = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
    const answer = await engine.handleQuery(garbage, "udp");
    assert.ok(answer);
    assert.equal(answer.readUInt16BE(0), 0xabcd);
    assert.equal(rcodeOf(answer), 1);
    assert.ok(answer.readUInt16BE(2) & 0x8000, "QR set");
    assert.equal(calls.length, 0);
    assert.equal(engine.counters.malformed, 1);
    assert.equal(rows(engine).length, 0, "no row for an unreadable question");
  });

  test("shorter than a header, or a response: dropped", async () => {
    const { engine } = engineWith(() => ({}));
    assert.equal(await engine.handleQuery(Buffer.from([1, 2, 3]), "udp"), null);
    const response = makeQuery("x.test");
    response[2] = (response[2] ?? 0) | 0x80;
    assert.equal(await engine.handleQuery(response, "udp"), null);
    assert.equal(engine.counters.dropped, 2);
  });

  test("two questions, or a compressed question name: FORMERR", async () => {
    const { engine } = engineWith(() => ({}));
    const two = makeQuery("x.test");
    two.writeUInt16BE(2, 4);
    const twoAnswer = await engine.handleQuery(Buffer.concat([two, two.subarray(12)]), "udp");
    assert.equal(twoAnswer && rcodeOf(twoAnswer), 1);
    const pointer = Buffer.concat([
      makeQuery("x.test").subarray(0, 12),
      Buffer.from([0xc0, 0x0c, 0, 1, 0, 1]),
    ]);
    const pointerAnswer = await engine.handleQuery(pointer, "udp");
    assert.equal(pointerAnswer && rcodeOf(pointerAnswer), 1);
  });

  test("AXFR and other opcodes are NOTIMP; EDNS version 1 is BADVERS", async () => {
    const { engine, calls } = engineWith(() => ({}));
    const axfr = await engine.handleQuery(makeQuery("corp.test", { type: "AXFR" }), "tcp");
    assert.equal(axfr && rcodeOf(axfr), 4);
    const notify = makeQuery("corp.test");
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    const notifyAnswer = await engine.handleQuery(notify, "udp");
    assert.equal(notifyAnswer && rcodeOf(notifyAnswer), 4);
    const v1 = decodeAnswer(await engine.handleQuery(makeQuery("x.test", { edns: { version: 1 } }), "udp"));
    const opt = optOf(v1);
    assert.ok(opt);
    assert.equal(opt.extendedRcode, 1, "BADVERS is extended RCODE 16");
    assert.equal(opt.ednsVersion, 0);
    assert.equal(calls.length, 0);
    assert.equal(engine.counters.unsupported, 3);
    assert.deepEqual(
      rows(engine).map((row) => row.rcode),
      ["NOTIMP", "NOTIMP", "BADVERS"],
    );
  });
});

describe("DnsEngine cache and coalescing", () => {
  test("a cached answer is served with its TTLs aged, without asking again", async () => {
    let now = 1_000_000;
    const { engine, calls } = engineWith(
      () => ({ answers: [a("c.test", "198.18.3.3", 100)], authorities: [soa("test", 500, 50)] }),
      { now: () => now },
    );
    await engine.handleQuery(makeQuery("c.test"), "udp");
    now += 30_500;
    const cached = decodeAnswer(await engine.handleQuery(makeQuery("C.TEST", { id: 7 }), "udp"));
    assert.equal(cached.id, 7);
    assert.equal(cached.questions[0]?.name, "C.TEST");
    assert.equal(plain(cached.answers[0]).ttl, 70);
    assert.equal(plain(cached.authorities[0]).ttl, 470);
    assert.equal(calls.length, 1);
    assert.equal(engine.counters.cacheHits, 1);
    const cachedRow = rows(engine)[1];
    assert.equal(cachedRow?.resolver, "cache");
    assert.equal(cachedRow?.ttl, 70);
    now += 70_000;
    await engine.handleQuery(makeQuery("c.test"), "udp");
    assert.equal(calls.length, 2, "expired: asked again");
  });

  test("DO and CD make separate entries; case does not", async () => {
    const { engine, calls } = engineWith(() => ({ answers: [a("k.test", "198.18.4.4")] }));
    await engine.handleQuery(makeQuery("k.test"), "udp");
    await engine.handleQuery(makeQuery("K.test"), "udp");
    await engine.handleQuery(makeQuery("k.test", { edns: { dnssecOk: true } }), "udp");
    await engine.handleQuery(makeQuery("k.test", { checkingDisabled: true }), "udp");
    assert.equal(calls.length, 3);
    const upstreamQuery = calls[1]?.query;
    assert.ok(upstreamQuery && optOf(upstreamQuery)?.flag_do, "DO passed upstream");
    assert.ok((calls[2]?.query.flags ?? 0) & 0x0010, "CD passed upstream");
  });

  test("NXDOMAIN is cached for the SOA minimum, bounded; without an SOA it is not cached", async () => {
    let now = 0;
    const { engine, calls } = engineWith(
      ({ query }) =>
        query.questions[0]?.name === "gone.test"
          ? { rcode: 3, authorities: [soa("test", 3600, 45)] }
          : { rcode: 3 },
      { now: () => now, cache: { maxNegativeTtlSeconds: 300 } },
    );
    await engine.handleQuery(makeQuery("gone.test", { type: "TXT" }), "udp");
    now += 44_000;
    const cached = await engine.handleQuery(makeQuery("gone.test", { type: "TXT" }), "udp");
    assert.equal(cached && rcodeOf(cached), 3);
    assert.equal(calls.length, 1);
    assert.equal(rows(engine)[1]?.ttl, 1);
    now += 2_000;
    await engine.handleQuery(makeQuery("gone.test", { type: "TXT" }), "udp");
    assert.equal(calls.length, 2);
    await engine.handleQuery(makeQuery("nosoa.test", { type: "TXT" }), "udp");
    await engine.handleQuery(makeQuery("nosoa.test", { type: "TXT" }), "udp");
    assert.equal(calls.length, 4);
  });

  test("identical queries in flight share one upstream exchange", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { engine, calls } = engineWith(async () => {
      await gate;
      return { answers: [a("slow.test", "198.18.6.6")] };
    });
    const ids = Array.from({ length: 50 }, (_, index) => index + 1);
    const pending = ids.map((id) =>
      engine.handleQuery(makeQuery(id % 2 ? "slow.test" : "SLOW.test", { id }), id % 3 ? "udp" : "tcp"),
    );
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const answers = await Promise.all(pending);
    assert.equal(calls.length, 1);
    assert.deepEqual(
      answers.map((answer) => decodeAnswer(answer).id),
      ids,
    );
    assert.equal(engine.counters.coalesced, 49);
    assert.equal(rows(engine).filter((row) => row.detail === "coalesced").length, 49);
  });

  test("beyond maxInFlight distinct questions, SERVFAIL at once", async () => {
    const { engine } = engineWith(() => new Promise<never>(() => undefined), { maxInFlight: 2 });
    void engine.handleQuery(makeQuery("one.test"), "udp");
    void engine.handleQuery(makeQuery("two.test"), "udp");
    const third = await engine.handleQuery(makeQuery("three.test"), "udp");
    assert.equal(third && rcodeOf(third), 2);
    assert.equal(engine.counters.overloaded, 1);
  });
});

describe("DnsEngine getaddrinfo fallback", () => {
  const lookupOnly: AddressLookup = async (name) => {
    if (name === "vpn-only.corp.test") {
      return [
        { address: "198.19.7.7", family: 4 },
        { address: "198.19.7.7", family: 4 },
      ];
    }
    throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  };

  test("NXDOMAIN from the forwarders, an address from getaddrinfo: a synthesized answer", async () => {
    const looked: string[] = [];
    const { engine } = engineWith(() => ({ rcode: 3, authorities: [soa("corp.test", 60, 60)] }), {
      lookup: (name) => {
        looked.push(name);
        return lookupOnly(name);
      },
    });
    const answer = decodeAnswer(await engine.handleQuery(makeQuery("VPN-only.corp.test", { id: 99 }), "udp"));
    assert.equal(answer.id, 99);
    assert.equal(answer.rcode, "NOERROR");
    assert.deepEqual(
      answer.answers.map((record) => {
        const { name, type, ttl, data } = plain(record);
        return [name, type, ttl, data];
      }),
      [["VPN-only.corp.test", "A", 30, "198.19.7.7"]],
    );
    assert.deepEqual(looked, ["vpn-only.corp.test"], "asked in lower case, without the trailing dot");
    const [row] = rows(engine);
    assert.equal(row?.resolver, "getaddrinfo");
    assert.match(row?.detail ?? "", /NXDOMAIN/);
    assert.equal(engine.counters.fallbacks, 1);

    const aaaa = decodeAnswer(
      await engine.handleQuery(makeQuery("vpn-only.corp.test", { type: "AAAA" }), "udp"),
    );
    assert.equal(aaaa.rcode, "NOERROR", "the name exists: NODATA, not NXDOMAIN");
    assert.equal(aaaa.answers.length, 0);
  });

  test("getaddrinfo does not know it either: the forwarders' NXDOMAIN stands", async () => {
    const { engine } = engineWith(() => ({ rcode: 3, authorities: [soa("corp.test", 60, 60)] }), {
      lookup: lookupOnly,
    });
    const answer = decodeAnswer(await engine.handleQuery(makeQuery("nothing.corp.test"), "udp"));
    assert.equal(answer.rcode, "NXDOMAIN");
    assert.equal(answer.authorities[0]?.type, "SOA");
    assert.equal(engine.counters.fallbackLookups, 1);
    assert.equal(engine.counters.fallbacks, 0);
  });

  test("forwarders failing: getaddrinfo answers A, and other types get SERVFAIL", async () => {
    const { engine } = engineWith(() => "timeout", { lookup: lookupOnly });
    const answer = decodeAnswer(await engine.handleQuery(makeQuery("vpn-only.corp.test"), "udp"));
    assert.equal(plain(answer.answers[0]).data, "198.19.7.7");
    const mx = await engine.handleQuery(makeQuery("vpn-only.corp.test", { type: "MX" }), "udp");
    assert.equal(mx && rcodeOf(mx), 2);
    assert.equal(engine.counters.fallbackLookups, 1, "no getaddrinfo for MX");
  });

  test("names of this computer's own links are not asked of getaddrinfo: mDNS, localhost, special-use, single labels without a search domain", async () => {
    const looked: string[] = [];
    const { engine } = engineWith(() => ({ rcode: 3, authorities: [soa("test", 60, 60)] }), {
      lookup: (name) => {
        looked.push(name);
        return Promise.resolve([{ address: "198.19.7.9", family: 4 }]);
      },
      searchDomains: () => Promise.resolve([]),
    });
    const names = [
      "printer.local",
      "localhost",
      "db.localhost",
      "nas",
      "9.7.19.198.in-addr.arpa",
      "router.home.arpa",
      "x.onion",
      "y.invalid",
    ];
    for (const name of names) {
      const answer = decodeAnswer(await engine.handleQuery(makeQuery(name), "udp"));
      assert.equal(answer.rcode, "NXDOMAIN", name);
    }
    assert.deepEqual(looked, []);
    assert.equal(engine.counters.fallbackLookups, 0);
  });

  test("a single label is looked up under this computer's search domains, and answered as asked", async () => {
    const looked: string[] = [];
    const { engine } = engineWith(() => ({ rcode: 3, authorities: [soa("test", 60, 60)] }), {
      lookup: (name) => {
        looked.push(name);
        if (name === "nas.home.test") return Promise.resolve([{ address: "198.19.7.8", family: 4 }]);
        return Promise.reject(Object.assign(new Error("not found"), { code: "ENOTFOUND" }));
      },
      searchDomains: () => Promise.resolve(["corp.test", "home.test"]),
    });
    const answer = decodeAnswer(await engine.handleQuery(makeQuery("NAS"), "udp"));
    assert.deepEqual(looked, ["nas.corp.test", "nas.home.test"], "never the bare label (LLMNR, NetBIOS)");
    assert.deepEqual(
      answer.answers.map((record) => [plain(record).name, plain(record).data]),
      [["NAS", "198.19.7.8"]],
    );
  });

  test("a getaddrinfo that hangs is given up on in time", async () => {
    const { engine } = engineWith(() => ({ rcode: 3 }), {
      lookup: () => new Promise(() => undefined),
      fallback: { timeoutMs: 50 },
    });
    const started = Date.now();
    const answer = await engine.handleQuery(makeQuery("hang.test"), "udp");
    assert.equal(answer && rcodeOf(answer), 3);
    assert.ok(Date.now() - started < 1_000);
  });
});

describe("DnsEngine resolver list", () => {
  test("a source is read again after the refresh interval; a changed list empties the cache", async () => {
    let now = 0;
    let reads = 0;
    let servers = [SERVER_A];
    const { exchange, calls } = scriptedExchange(() => ({ answers: [a("r.test", "198.18.8.8")] }));
    const engine = new DnsEngine({
      resolvers: async () => {
        reads++;
        return servers;
      },
      resolverRefreshMs: 1_000,
      exchange,
      lookup: notFoundLookup,
      now: () => now,
    });
    await engine.handleQuery(makeQuery("r1.test"), "udp");
    await engine.handleQuery(makeQuery("r2.test"), "udp");
    assert.equal(reads, 1);
    now += 1_500;
    await engine.handleQuery(makeQuery("r3.test"), "udp");
    assert.equal(reads, 2);
    assert.equal(engine.cacheSize, 3, "same list: the cache stays");
    servers = [SERVER_B];
    await engine.refreshDnsConfig();
    assert.equal(engine.cacheSize, 0);
    await engine.handleQuery(makeQuery("r1.test"), "udp");
    assert.deepEqual(calls[3]?.upstream, SERVER_B);
  });
});
