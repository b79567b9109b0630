// The DNS engine asks the resolver this computer's OS would, for every record type: parsed real
// OS outputs (os-config/fixtures) drive a real engine over real UDP sockets.
//
// The substitution: each parsed configuration's server addresses (192.168.86.1, 10.0.0.1, ...)
// are rewritten to UDP servers on 127.0.0.x ports that stand in for them, each answering with
// records that name the stand-in, so an answer says which resolver gave it.
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { after, describe, test } from "node:test";
import { decode, type DecodedPacket, type EncodableRecord } from "dns-packet";
import { DnsEngine } from "./engine.js";
import { parseResolvectlStatus } from "./os-config/linux-resolvectl.js";
import { parseScutilDns } from "./os-config/macos-scutil.js";
import type { OsDnsConfig } from "./os-config/os-dns-config.js";
import { fixture } from "./os-config/test-fixtures.js";
import { windowsDnsConfig } from "./os-config/windows-dns.js";
import { decodeAnswer, makeQuery, makeResponse, scriptedExchange } from "./test-support.js";
import type { Upstream } from "./upstream.js";

interface StandIn {
  upstream: Upstream;
  /** The names it was asked, in order. */
  asked: string[];
  socket: Socket;
}

/** Records of the asked type whose data names `who`, the stand-in's address. */
function recordsFor(name: string, type: string, who: string): EncodableRecord[] {
  const label = who.replaceAll(".", "-");
  switch (type) {
    case "SRV":
      return [
        { type: "SRV", name, ttl: 60, data: { priority: 0, weight: 0, port: 389, target: `${label}.test` } },
      ];
    case "MX":
      return [{ type: "MX", name, ttl: 60, data: { preference: 10, exchange: `${label}.test` } }];
    case "TXT":
      return [{ type: "TXT", name, ttl: 60, data: `answered by ${who}` }];
    case "A":
      return [{ type: "A", name, ttl: 60, data: "198.18.0.10" }];
    default:
      return [];
  }
}

async function standIn(address: string): Promise<StandIn> {
  const socket = createSocket("udp4");
  socket.bind(0, address);
  await once(socket, "listening");
  const asked: string[] = [];
  socket.on("message", (query, peer) => {
    const question = decode(query).questions[0];
    if (!question) return;
    asked.push(question.name.toLowerCase());
    const answers = recordsFor(question.name, question.type, address);
    socket.send(makeResponse(query, { answers }), peer.port, peer.address);
  });
  return { upstream: { address, port: socket.address().port }, asked, socket };
}

const sockets: Socket[] = [];
after(() => sockets.forEach((socket) => socket.close()));

/** Stand-ins for `addresses`, and `config` with those addresses rewritten to them. */
async function withStandIns(
  config: OsDnsConfig,
  substitutes: Record<string, string>,
): Promise<{ config: OsDnsConfig; standIns: Map<string, StandIn> }> {
  const standIns = new Map<string, StandIn>();
  for (const [real, local] of Object.entries(substitutes)) {
    const server = await standIn(local);
    sockets.push(server.socket);
    standIns.set(real, server);
  }
  const rewritten: OsDnsConfig = {
    ...config,
    resolvers: config.resolvers.map((resolver) => ({
      ...resolver,
      servers: resolver.servers.map((server) => standIns.get(server.address)?.upstream ?? server),
    })),
  };
  return { config: rewritten, standIns };
}

/** Who answered: the stand-in's address as the records name it. */
function answeredBy(packet: DecodedPacket): string {
  const record = packet.answers[0];
  if (!record || !("data" in record)) return "nobody";
  const { data } = record;
  if (record.type === "TXT") return String(Array.isArray(data) ? data[0] : data).replace("answered by ", "");
  const target =
    record.type === "SRV" && typeof data === "object" && data !== null && "target" in data
      ? String(data.target)
      : record.type === "MX" && typeof data === "object" && data !== null && "exchange" in data
        ? String(data.exchange)
        : "";
  return target.replace(/\.test$/, "").replaceAll("-", ".");
}

async function ask(engine: DnsEngine, type: string, name: string): Promise<string> {
  return answeredBy(decodeAnswer(await engine.handleQuery(makeQuery(name, { type }), "udp")));
}

function engineFor(config: OsDnsConfig): DnsEngine {
  return new DnsEngine({
    dnsConfig: config,
    lookup: () => Promise.reject(new Error("getaddrinfo is not asked in this test")),
  });
}

describe("the DNS engine asks the resolver the OS would", () => {
  test("macOS: a split-DNS VPN's supplemental resolver for SRV, TXT and MX under its domain; the primary for the rest", async () => {
    const { config, standIns } = await withStandIns(
      parseScutilDns(fixture("macos-scutil-dns-split-supplemental-1.txt")),
      { "192.168.86.1": "127.0.0.2", "10.0.0.1": "127.0.0.3", "10.0.0.2": "127.0.0.4" },
    );
    const engine = engineFor(config);
    assert.equal(await ask(engine, "SRV", "_ldap._tcp.corp.example"), "127.0.0.3");
    assert.equal(await ask(engine, "TXT", "corp2.example"), "127.0.0.3");
    assert.equal(await ask(engine, "MX", "corp.example"), "127.0.0.3");
    assert.equal(await ask(engine, "SRV", "_sip._tcp.example.org"), "127.0.0.2");
    assert.equal(await ask(engine, "TXT", "example.org"), "127.0.0.2");
    assert.deepEqual(standIns.get("192.168.86.1")?.asked, ["_sip._tcp.example.org", "example.org"]);
    // The table's resolver column names the resolver that answered; the detail why it was asked.
    const rows = engine.table.snapshot();
    const srv = rows.find((row) => row.type === "SRV" && row.name === "_ldap._tcp.corp.example");
    const vpn = standIns.get("10.0.0.1")?.upstream;
    assert.equal(srv?.resolver, `127.0.0.3:${vpn?.port} udp`);
    assert.match(srv?.detail ?? "", /corp\.example: scutil resolver #2 \(utun4\)/);
    const other = rows.find((row) => row.name === "example.org");
    assert.equal(other?.resolver, `127.0.0.2:${standIns.get("192.168.86.1")?.upstream.port} udp`);
    assert.equal(other?.detail, null);
    engine.close();
  });

  /** Which stand-in answers each query: [type, name, the stand-in's address, why (optional)]. */
  const cases: Array<{
    title: string;
    config: () => OsDnsConfig;
    standIns: Record<string, string>;
    answers: Array<[type: string, name: string, answeredBy: string, why?: string]>;
  }> = [
    {
      title: "Windows: an NRPT namespace's servers, a VPN adapter's suffix, the adapters for the rest",
      config: () =>
        windowsDnsConfig({
          nrpt: fixture("windows-get-dnsclientnrptpolicy-effective-directaccess-1.txt"),
          ipconfig: fixture("windows-ipconfig-all-anyconnect-1.txt"),
        }),
      standIns: { "2001:db8:1::2": "127.0.0.5", "203.0.113.5": "127.0.0.6", "192.168.86.1": "127.0.0.7" },
      answers: [
        ["SRV", "_ldap._tcp.dc.corp.contoso.com", "127.0.0.5"],
        ["MX", "corp.example", "127.0.0.6"],
        ["TXT", "nas.lan", "127.0.0.7"],
        ["TXT", "nls.corp.contoso.com", "127.0.0.6", "an exemption: the adapters"],
      ],
    },
    {
      title: "systemd-resolved: a link's routing domains for every type, the DefaultRoute link for the rest",
      config: () => parseResolvectlStatus(fixture("linux-resolvectl-status-tailscale-1.txt")),
      standIns: { "100.100.100.100": "127.0.0.8", "10.6.0.2": "127.0.0.9" },
      answers: [
        ["SRV", "_http._tcp.box.tail0a1b2c.ts.net", "127.0.0.8"],
        ["TXT", "other.ts.net", "127.0.0.8"],
        ["MX", "github.com", "127.0.0.9"],
      ],
    },
  ];
  for (const { title, config: parse, standIns, answers } of cases)
    test(title, async () => {
      const { config } = await withStandIns(parse(), standIns);
      const engine = engineFor(config);
      for (const [type, name, expected, why] of answers)
        assert.equal(await ask(engine, type, name), expected, why);
      engine.close();
    });
});

describe("the DNS configuration changes", () => {
  test("read again on request: a VPN gone sends its names to the primary; a failed read keeps the last good one", async () => {
    const up = parseScutilDns(fixture("macos-scutil-dns-split-supplemental-1.txt"));
    const down = parseScutilDns(fixture("macos-scutil-dns-plain-1.txt"));
    let next: OsDnsConfig | Error = up;
    let reads = 0;
    const { exchange, calls } = scriptedExchange(({ query }) => ({
      answers: recordsFor(query.questions[0]?.name ?? "", "TXT", "x"),
    }));
    const engine = new DnsEngine({
      dnsConfig: async () => {
        reads++;
        if (next instanceof Error) throw next;
        return next;
      },
      exchange,
      lookup: () => Promise.reject(new Error("unused")),
    });
    const txt = (name: string): Buffer => makeQuery(name, { type: "TXT" });
    await engine.handleQuery(txt("wiki.corp.example"), "udp");
    assert.equal(calls.at(-1)?.upstream.address, "10.0.0.1");
    next = new Error("scutil: timed out");
    await engine.refreshDnsConfig();
    await engine.handleQuery(txt("jira.corp.example"), "udp");
    assert.equal(calls.at(-1)?.upstream.address, "10.0.0.1", "the last good configuration");
    assert.equal(engine.cacheSize, 2, "an unreadable configuration empties nothing");
    next = down;
    await engine.refreshDnsConfig();
    assert.equal(engine.cacheSize, 0, "another configuration: cached answers may be wrong now");
    await engine.handleQuery(txt("wiki.corp.example"), "udp");
    assert.equal(calls.at(-1)?.upstream.address, "2001:db8:1006:e906::c0a8:1d01");
    assert.equal(reads, 3);
    engine.close();
  });

  test("a stale configuration is read again in the background, the query answered from the last one", async () => {
    let now = 0;
    let release: (() => void) | undefined;
    let reads = 0;
    const { exchange, calls } = scriptedExchange(() => ({ answers: [] }));
    const engine = new DnsEngine({
      dnsConfig: async () => {
        reads++;
        if (reads === 1) return parseScutilDns(fixture("macos-scutil-dns-split-supplemental-1.txt"));
        await new Promise<void>((resolve) => (release = resolve));
        return parseScutilDns(fixture("macos-scutil-dns-plain-1.txt"));
      },
      resolverRefreshMs: 1_000,
      exchange,
      lookup: () => Promise.reject(new Error("unused")),
      now: () => now,
    });
    await engine.handleQuery(makeQuery("a.corp.example", { type: "TXT" }), "udp");
    now += 1_500;
    // The read now in progress never ends until released: the query must not wait for it.
    const answer = await Promise.race([
      engine.handleQuery(makeQuery("b.corp.example", { type: "TXT" }), "udp"),
      new Promise<"waited">((resolve) => setTimeout(() => resolve("waited"), 5_000).unref()),
    ]);
    assert.notEqual(answer, "waited", "answered within 5 s, while the configuration was being read");
    assert.equal(reads, 2);
    assert.equal(calls.at(-1)?.upstream.address, "10.0.0.1");
    release?.();
    await engine.refreshDnsConfig();
    await engine.handleQuery(makeQuery("c.corp.example", { type: "TXT" }), "udp");
    assert.equal(calls.at(-1)?.upstream.address, "2001:db8:1006:e906::c0a8:1d01");
    engine.close();
  });
});
