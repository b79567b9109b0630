import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EncodableRecord } from "dns-packet";
import { AddressNames, DEFAULT_ADDRESS_NAMES } from "./address-names.js";
import { DnsEngine, type DnsEngineOptions } from "./engine.js";
import {
  a,
  makeQuery,
  makeResponse,
  rcodeOf,
  scriptedEngine,
  SERVER_A,
  type Script,
} from "./test-support.js";

function engineWith(script: Script, options: DnsEngineOptions = {}): DnsEngine {
  return scriptedEngine(script, [SERVER_A], options).engine;
}

function cname(name: string, target: string, ttl = 300): EncodableRecord {
  return { type: "CNAME", name, ttl, data: target };
}

function aaaa(name: string, address: string, ttl = 300): EncodableRecord {
  return { type: "AAAA", name, ttl, data: address };
}

/** A response to `name` (type A) holding `answers`, as a resolver would send it. */
function response(name: string, answers: EncodableRecord[], type = "A"): Buffer {
  return makeResponse(makeQuery(name, { type }), { answers });
}

/** `names` notes the answer to `asked` (type A unless `type` says), as the engine hands it over. */
function note(names: AddressNames, asked: string, answers: EncodableRecord[], type = "A"): void {
  names.noteAnswer(`${asked}.`, response(asked, answers, type));
}

describe("AddressNames", () => {
  test("follows a CNAME chain to the name the remote asked for", () => {
    const names = new AddressNames();
    note(names, "vault.corp.example", [
      cname("vault.corp.example", "lb-7.corp.example"),
      a("lb-7.corp.example", "198.19.1.10"),
    ]);
    assert.equal(names.nameOf("198.19.1.10"), "vault.corp.example");
  });

  test("a chain of several CNAMEs in any order, and address records the name does not reach ignored", () => {
    const names = new AddressNames();
    note(names, "App.Corp.Example", [
      a("edge-3.cdn.example", "198.19.2.3"),
      cname("lb.corp.example", "edge-3.cdn.example"),
      a("glue.other.example", "198.19.9.9"),
      cname("app.corp.example", "LB.corp.example"),
    ]);
    assert.equal(names.nameOf("198.19.2.3"), "app.corp.example", "lower case, through two CNAMEs");
    assert.equal(names.nameOf("198.19.9.9"), undefined, "an owner outside the chain names nothing");
  });

  test("AAAA answers map IPv6 addresses in the NAT table's text form", () => {
    const names = new AddressNames();
    note(names, "host.corp.test", [aaaa("host.corp.test", "2001:0db8:19:1:0:0:0:10")], "AAAA");
    assert.equal(names.nameOf("2001:db8:19:1::10"), "host.corp.test");
  });

  test("an address answered for two names carries the most recent one", () => {
    const names = new AddressNames();
    note(names, "a.corp.test", [a("a.corp.test", "198.19.1.10")]);
    note(names, "b.corp.test", [a("b.corp.test", "198.19.1.10")]);
    assert.equal(names.nameOf("198.19.1.10"), "b.corp.test");
    note(names, "a.corp.test", [a("a.corp.test", "198.19.1.10")]);
    assert.equal(names.nameOf("198.19.1.10"), "a.corp.test");
    assert.equal(names.size, 1);
  });

  test("an entry lives for its TTL plus the grace, then is forgotten", () => {
    let now = 1_000_000;
    const names = new AddressNames({ graceMs: 60_000, now: () => now });
    note(names, "short.corp.test", [a("short.corp.test", "198.19.1.1", 30)]);
    now += 30_000 + 59_000;
    assert.equal(names.nameOf("198.19.1.1"), "short.corp.test", "after the TTL, within the grace");
    now += 2_000;
    assert.equal(names.nameOf("198.19.1.1"), undefined, "after TTL and grace");
    assert.equal(names.size, 0);
  });

  test("one answer noted again (a cache hit): it wins its address back, with an expiry from now", () => {
    let now = 1_000_000;
    const names = new AddressNames({ graceMs: 60_000, now: () => now });
    const cached = response("vault.corp.test", [a("vault.corp.test", "198.19.1.10", 30)]);
    names.noteAnswer("vault.corp.test.", cached);
    note(names, "wiki.corp.test", [a("wiki.corp.test", "198.19.1.10", 30)]);
    now += 80_000;
    names.noteAnswer("Vault.Corp.Test.", cached);
    assert.equal(names.nameOf("198.19.1.10"), "vault.corp.test", "the most recent answer wins");
    now += 89_000;
    assert.equal(names.nameOf("198.19.1.10"), "vault.corp.test", "TTL and grace counted from the second");
    now += 2_000;
    assert.equal(names.nameOf("198.19.1.10"), undefined);
  });

  test("one answer noted for another name maps that name", () => {
    const names = new AddressNames();
    const shared = response("a.corp.test", [a("a.corp.test", "198.19.1.1"), a("b.corp.test", "198.19.1.2")]);
    names.noteAnswer("a.corp.test.", shared);
    names.noteAnswer("b.corp.test.", shared);
    assert.equal(names.nameOf("198.19.1.2"), "b.corp.test");
    assert.equal(names.nameOf("198.19.1.1"), "a.corp.test", "b does not reach a's record");
  });

  test("a flood of valid answers keeps at most the cap, the most recently used", () => {
    const names = new AddressNames();
    const cap = DEFAULT_ADDRESS_NAMES.maxEntries;
    const answers = 3 * cap;
    // Two addresses per answer: 6 x the cap in addresses.
    for (let i = 0; i < answers; i++) {
      const name = `n${i}.flood.test`;
      const v4 = `198.18.${(i >> 8) & 0xff}.${i & 0xff}`;
      const v6 = `2001:db8:f::${i.toString(16)}`;
      note(names, name, [a(name, v4), aaaa(name, v6)]);
      if (i === 100) assert.equal(names.nameOf("198.18.0.0"), "n0.flood.test", "used once, early");
    }
    assert.equal(names.size, cap);
    const last = answers - 1;
    assert.equal(names.nameOf(`2001:db8:f::${last.toString(16)}`), `n${last}.flood.test`);
    assert.equal(names.nameOf(`2001:db8:f::${(0).toString(16)}`), undefined, "the oldest went first");
  });
});

describe("the DNS engine's address names", () => {
  test("every answer the remote gets is noted, cache hits included: the most recent wins", async () => {
    const engine = engineWith(({ query }) => {
      const name = query.questions[0]?.name ?? "";
      return { answers: [cname(name, "lb-7.corp.test"), a("lb-7.corp.test", "198.19.1.10")] };
    });
    await engine.handleQuery(makeQuery("vault.corp.test"), "udp");
    assert.equal(engine.addressNames.nameOf("198.19.1.10"), "vault.corp.test");
    await engine.handleQuery(makeQuery("wiki.corp.test"), "udp");
    assert.equal(engine.addressNames.nameOf("198.19.1.10"), "wiki.corp.test");
    await engine.handleQuery(makeQuery("vault.corp.test"), "udp");
    assert.equal(engine.counters.cacheHits, 1);
    assert.equal(engine.addressNames.nameOf("198.19.1.10"), "vault.corp.test");
    engine.close();
  });

  test("an answer the remote did not receive (TC=1 over UDP), a failure and NXDOMAIN name nothing", async () => {
    const many = Array.from({ length: 60 }, (_, i) => a("big.corp.test", `198.19.3.${i}`));
    const engine = engineWith(({ query }) => {
      const name = query.questions[0]?.name ?? "";
      if (name === "big.corp.test") return { answers: many };
      if (name === "gone.corp.test") return { rcode: 3 };
      return { rcode: 2 };
    });
    const big = await engine.handleQuery(makeQuery("big.corp.test"), "udp");
    assert.ok(big && (big.readUInt16BE(2) & 0x0200) !== 0, "too large for classic UDP: TC=1");
    assert.equal(engine.addressNames.size, 0);
    await engine.handleQuery(makeQuery("big.corp.test"), "tcp");
    assert.equal(engine.addressNames.nameOf("198.19.3.7"), "big.corp.test", "over TCP it got them");
    const gone = await engine.handleQuery(makeQuery("gone.corp.test"), "udp");
    assert.equal(gone && rcodeOf(gone), 3);
    await engine.handleQuery(makeQuery("broken.corp.test"), "udp");
    assert.equal(engine.addressNames.size, 60);
    engine.close();
  });

  test("a flood of unique names through the engine stays within the configured cap", async () => {
    let served = 0;
    const engine = engineWith(
      ({ query }) => {
        const name = query.questions[0]?.name ?? "";
        served++;
        return { answers: [a(name, `198.18.${(served >> 8) & 0xff}.${served & 0xff}`, 3600)] };
      },
      { addressNames: { maxEntries: 500 } },
    );
    for (let i = 1; i <= 5_000; i++) await engine.handleQuery(makeQuery(`u${i}.flood.test`), "udp");
    assert.equal(served, 5_000);
    assert.equal(engine.addressNames.size, 500);
    assert.equal(
      engine.addressNames.nameOf(`198.18.${(5_000 >> 8) & 0xff}.${5_000 & 0xff}`),
      "u5000.flood.test",
    );
    engine.close();
  });
});
