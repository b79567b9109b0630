/**
 * The DNS engine end to end with real resolvers: a dnsmasq in S serves a private zone holding
 * every record type it can, L's resolv.conf points at S, and the engine runs in L the way the
 * local helper does. Its answers, asked with dig, must be the RRsets dig gets straight from S.
 * See e2e/dns/topology.ts and e2e/dns/zone.ts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { buildDnsTopology, type DnsTopology } from "./dns/topology.js";
import { BIG_TXT_STRINGS, HOSTS_ONLY, ZONE, ZONE_CASES } from "./dns/zone.js";
import { netnsSkipReason, type NetworkNamespace } from "./netns/index.js";
import { LAN } from "./netns/address-plan.js";

const skip = netnsSkipReason({ tools: ["dig", "dnsmasq"] });

interface DigResult {
  status: string;
  flags: string[];
  /** Answer, authority and additional records without TTLs, whitespace normalized, sorted. */
  records: string[];
  queryMs: number | undefined;
  output: string;
}

interface DigTarget {
  server: string;
  port?: number;
}

async function dig(
  namespace: NetworkNamespace,
  target: DigTarget,
  name: string,
  type: string,
  extra: readonly string[] = [],
): Promise<DigResult> {
  const args = [
    `@${target.server}`,
    ...(target.port === undefined ? [] : ["-p", String(target.port)]),
    "+noall",
    "+comments",
    "+answer",
    "+authority",
    "+additional",
    "+stats",
    "+nottlid",
    "+time=3",
    "+tries=1",
    ...extra,
    name,
    type,
  ];
  const result = await namespace.runChecked("dig", args, { timeoutMs: 20_000 });
  const output = result.stdout;
  const status = /status: ([A-Z]+)/.exec(output)?.[1] ?? "(none)";
  const flags = (/;; flags: ([^;]*);/.exec(output)?.[1] ?? "").trim().split(/\s+/);
  const queryTime = /;; Query time: (\d+) msec/.exec(output)?.[1];
  const records = output
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith(";"))
    .map((line) => line.trim().split(/\s+/).join(" "))
    .sort();
  return { status, flags, records, queryMs: queryTime === undefined ? undefined : Number(queryTime), output };
}

describe("DNS engine against a real resolver", { skip, timeout: 180_000 }, () => {
  let topo: DnsTopology;
  let engine: DigTarget;
  const direct: DigTarget = { server: LAN.dns.v4 };

  before(async () => {
    topo = await buildDnsTopology();
    engine = { server: "127.0.0.1", port: topo.enginePort };
  });
  after(() => topo?.cleanup());

  test("the engine reads its resolvers from L's resolv.conf", () => {
    assert.deepEqual(topo.engineResolvers, [
      { address: LAN.dns.v4, port: 53 },
      { address: LAN.dns.v6, port: 53 },
    ]);
  });

  test("every record type: the RRsets dig gets from S, uncached, cached and over TCP", async () => {
    for (const { name, type, status } of ZONE_CASES) {
      const expected = await dig(topo.local, direct, name, type);
      const what = `${name} ${type}`;
      assert.equal(expected.status, status, `S itself: ${what}\n${expected.output}`);
      if (status === "NOERROR" && type !== "TXT") assert.ok(expected.records.length > 0, `S has ${what}`);
      for (const [how, extra] of [
        ["uncached", []],
        ["cached", []],
        ["over TCP", ["+tcp"]],
      ] as const) {
        const got = await dig(topo.local, engine, name, type, extra);
        assert.equal(got.status, expected.status, `${what} ${how}\n${got.output}`);
        assert.deepEqual(got.records, expected.records, `${what} ${how}`);
        assert.ok(got.flags.includes("ra"), `${what} ${how}: the engine offers recursion`);
      }
    }
  });

  test("a nonexistent name is NXDOMAIN at once, with the zone's SOA", async () => {
    const name = `nope-${randomBytes(4).toString("hex")}.${ZONE}`;
    const got = await dig(topo.local, engine, name, "A");
    assert.equal(got.status, "NXDOMAIN");
    assert.ok(
      got.records.some((record) => record.startsWith(`${ZONE}. IN SOA`)),
      got.output,
    );
    // "At once": before the engine's first upstream attempt would time out (1.2 s), by dig's own
    // clock (no process start counted). A normal answer takes a few milliseconds.
    assert.ok(got.queryMs !== undefined && got.queryMs < 1_000, `answered in ${got.queryMs} ms`);
  });

  test("the 2 KB TXT: TC=1 over UDP, complete over TCP and after dig's own retry", async () => {
    const name = `big.${ZONE}`;
    for (const extra of [["+ignore"], ["+ignore", "+noedns"]]) {
      const truncated = await dig(topo.local, engine, name, "TXT", extra);
      assert.ok(truncated.flags.includes("tc"), `TC=1 with ${extra.join(" ")}\n${truncated.output}`);
      assert.equal(truncated.records.length, 0);
    }
    const strings = (result: DigResult): string[] =>
      result.records
        .filter((record) => record.includes(" TXT "))
        .map((record) => record.split(" TXT ")[1] ?? "");
    const expected = BIG_TXT_STRINGS.map((text) => `"${text}"`).sort();
    for (const extra of [["+tcp"], []]) {
      const complete = await dig(topo.local, engine, name, "TXT", extra);
      assert.ok(!complete.flags.includes("tc"), complete.output);
      assert.deepEqual(strings(complete).sort(), expected, `complete with ${extra.join(" ") || "a retry"}`);
    }
  });

  test("a name only getaddrinfo knows (L's /etc/hosts) is answered from it", async () => {
    const fromServer = await dig(topo.local, direct, HOSTS_ONLY.name, "A");
    assert.equal(fromServer.status, "NXDOMAIN", "S does not know it");
    const got = await dig(topo.local, engine, HOSTS_ONLY.name, "A");
    assert.equal(got.status, "NOERROR", got.output);
    assert.deepEqual(got.records, [`${HOSTS_ONLY.name}. IN A ${HOSTS_ONLY.address}`]);
    const aaaa = await dig(topo.local, engine, HOSTS_ONLY.name, "AAAA");
    assert.equal(aaaa.status, "NOERROR", "the name exists: NODATA for AAAA, not NXDOMAIN");
    assert.equal(aaaa.records.length, 0);
  });

  test("the table and counters tell who answered", async () => {
    const { counters, rows } = await topo.report();
    const resolvers = new Set(rows.map((row) => row.resolver));
    for (const expected of ["198.19.0.53:53 udp", "198.19.0.53:53 tcp", "cache", "getaddrinfo"]) {
      assert.ok(resolvers.has(expected), `a row answered by ${expected}: ${[...resolvers].join(", ")}`);
    }
    const fallback = rows.find((row) => row.name === HOSTS_ONLY.name && row.type === "A");
    assert.deepEqual(fallback?.answers, [HOSTS_ONLY.address]);
    assert.equal(fallback?.ttl, 30);
    const big = rows.find((row) => row.name === `big.${ZONE}` && row.transport === "tcp");
    assert.equal(big?.answers.length, BIG_TXT_STRINGS.length);
    assert.ok(counters.truncated >= 3, `truncated: ${counters.truncated}`);
    assert.ok(counters.upstreamTruncated >= 1, `upstream truncated: ${counters.upstreamTruncated}`);
    assert.ok(counters.cacheHits >= ZONE_CASES.length, `cache hits: ${counters.cacheHits}`);
    assert.ok(counters.fallbacks >= 2, `fallbacks: ${counters.fallbacks}`);
    assert.equal(counters.malformed, 0);
    assert.equal(counters.internalErrors, 0);
    assert.equal(rows.length, counters.queries);
  });

  test("each row's answers are dig's answer section, in presentation form", async () => {
    const { rows } = await topo.report();
    const squeeze = (text: string): string => text.replace(/\s+/g, "");
    for (const { name, type } of ZONE_CASES) {
      const row = rows.find((candidate) => candidate.name === name && candidate.type === type);
      assert.ok(row, `a row for ${name} ${type}`);
      const answer = await topo.local.runChecked("dig", [
        `@${LAN.dns.v4}`,
        "+noall",
        "+answer",
        "+nottlid",
        name,
        type,
      ]);
      const expected = answer.stdout
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
          // "owner. IN TYPE data...": the data alone for the asked type, "TYPE data" for another.
          const [, , recordType = "", ...data] = line.trim().split(/\s+/);
          return squeeze(recordType === type ? data.join("") : `${recordType}${data.join("")}`);
        });
      assert.deepEqual(row.answers.map(squeeze).sort(), expected.sort(), `${name} ${type}`);
    }
  });
});
