import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prepareAnswer, type CachePolicy, type PreparedAnswer } from "./answer.js";
import { cacheKey, DnsCache } from "./cache.js";
import { parseQuery, type DnsQuery } from "./query.js";
import { a, makeQuery, makeResponse, soa, type QueryOptions, type ScriptedAnswer } from "./test-support.js";
import { parseMessage } from "./wire.js";

const POLICY: CachePolicy = { maxTtlSeconds: 3_600, maxNegativeTtlSeconds: 300 };

function queryOf(name: string, options: QueryOptions = {}): DnsQuery {
  const parsed = parseQuery(makeQuery(name, options));
  assert.equal(parsed.kind, "query");
  return parsed.query;
}

function prepared(name: string, answer: ScriptedAnswer, options: QueryOptions = {}): PreparedAnswer {
  const message = makeResponse(makeQuery(name, options), answer);
  return prepareAnswer(message, parseMessage(message), POLICY);
}

describe("cache policy (prepareAnswer)", () => {
  test("positive: the smallest answer TTL, capped", () => {
    const answer = prepared("p.test", {
      answers: [a("p.test", "198.18.0.1", 90), a("p.test", "198.18.0.2", 40)],
    });
    assert.equal(answer.ttl, 40);
    assert.equal(answer.cacheTtl, 40);
    assert.deepEqual(answer.answers, ["198.18.0.1", "198.18.0.2"]);
    const long = prepared("l.test", { answers: [a("l.test", "198.18.0.1", 604_800)] });
    assert.equal(long.cacheTtl, 3_600);
  });

  test("negative (RFC 2308 §5): min(SOA TTL, SOA minimum), capped; no SOA, no caching", () => {
    assert.equal(prepared("n.test", { rcode: 3, authorities: [soa("test", 900, 120)] }).cacheTtl, 120);
    assert.equal(prepared("n.test", { rcode: 3, authorities: [soa("test", 60, 120)] }).cacheTtl, 60);
    assert.equal(prepared("n.test", { rcode: 3, authorities: [soa("test", 86_400, 86_400)] }).cacheTtl, 300);
    assert.equal(prepared("n.test", { rcode: 3 }).cacheTtl, 0);
    const nodata = prepared("n.test", { authorities: [soa("test", 900, 30)] }, { type: "AAAA" });
    assert.equal(nodata.cacheTtl, 30);
    assert.equal(nodata.ttl, 30);
  });

  test("SERVFAIL, truncated answers and TTL 0 are not cached", () => {
    assert.equal(prepared("s.test", { rcode: 2 }).cacheTtl, 0);
    assert.equal(prepared("t.test", { truncated: true, answers: [a("t.test", "198.18.0.1")] }).cacheTtl, 0);
    assert.equal(prepared("z.test", { answers: [a("z.test", "198.18.0.1", 0)] }).cacheTtl, 0);
  });
});

describe("cacheKey", () => {
  test("case-insensitive name; type, class, DO and CD matter; other EDNS details do not", () => {
    assert.equal(cacheKey(queryOf("WWW.Corp.Test")), cacheKey(queryOf("www.corp.test")));
    assert.equal(
      cacheKey(queryOf("x.test", { edns: { udpPayloadSize: 4096 } })),
      cacheKey(queryOf("x.test", { edns: { udpPayloadSize: 512 } })),
    );
    const keys = new Set([
      cacheKey(queryOf("x.test")),
      cacheKey(queryOf("x.test", { type: "AAAA" })),
      cacheKey(queryOf("x.test", { klass: "CH" })),
      cacheKey(queryOf("x.test", { edns: { dnssecOk: true } })),
      cacheKey(queryOf("x.test", { checkingDisabled: true })),
      cacheKey(queryOf("y.test")),
    ]);
    assert.equal(keys.size, 6);
  });
});

describe("DnsCache", () => {
  test("entries expire after their TTL and report their age", () => {
    let now = 0;
    const cache = new DnsCache({ now: () => now });
    const answer = prepared("e.test", { answers: [a("e.test", "198.18.0.1", 10)] });
    cache.set("e", answer);
    now = 9_999;
    assert.equal(cache.get("e")?.ageSeconds, 9);
    now = 10_000;
    assert.equal(cache.get("e"), undefined);
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
  });

  test("the least recently used entry goes first when entries are bounded", () => {
    const cache = new DnsCache({ maxEntries: 3 });
    const answer = prepared("e.test", { answers: [a("e.test", "198.18.0.1")] });
    for (const key of ["a", "b", "c"]) cache.set(key, answer);
    assert.ok(cache.get("a"), "touch a: b is now the oldest");
    cache.set("d", answer);
    assert.equal(cache.size, 3);
    assert.equal(cache.get("b"), undefined);
    assert.ok(cache.get("a") && cache.get("c") && cache.get("d"));
  });

  test("bounded in bytes too; replacing a key does not leak its bytes", () => {
    const answer = prepared("b.test", { answers: [a("b.test", "198.18.0.1")] });
    const perEntry = answer.message.length + 1 + 256;
    const cache = new DnsCache({ maxBytes: perEntry * 2 });
    cache.set("x", answer);
    cache.set("x", answer);
    assert.equal(cache.bytes, perEntry);
    cache.set("y", answer);
    cache.set("z", answer);
    assert.equal(cache.size, 2);
    assert.equal(cache.get("x"), undefined);
    assert.ok(cache.bytes <= perEntry * 2);
  });

  test("an answer that must not be cached is not stored", () => {
    const cache = new DnsCache();
    cache.set("s", prepared("s.test", { rcode: 2 }));
    assert.equal(cache.size, 0);
  });
});
