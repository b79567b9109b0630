import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { Capability, type LinkConfig } from "../../shared/link-protocol.js";
import { DnsEngine } from "./dns/engine.js";
import { ExitSession, openExitLink, type ExitSessionOptions } from "./exit-session.js";
import { Link } from "./link/link.js";
import { createMemoryPipe } from "./link/memory-pipe.js";
import { LinkStreamOpener } from "./streams/stream-opener.js";
import { StreamStatus } from "../../shared/link-streams.js";
import { fixedDnsConfig } from "./dns/os-config/os-dns-config.js";
import { makeQuery, scriptedExchange } from "./dns/test-support.js";
import { fakeResolver, SERVER_NAME, tcpServer } from "./streams/test-world.js";
import { until } from "../../shared/test-until.js";
import {
  buildTcpPacket,
  buildUdpPacket,
  parseAddress,
  parseIp,
  parseTransport,
  TcpFlag,
} from "./packet/index.js";

/** A link to an ExitSession over a memory pipe, and the entrance's end of it. */
function exitLinkPair(capabilities = 0): { link: Link; entrance: Link; close(): Promise<void> } {
  const [exitEnd, entranceEnd] = createMemoryPipe();
  const entrance = new Link(entranceEnd, { role: "entrance", softwareVersion: "test", capabilities });
  const link = openExitLink(exitEnd, { keepaliveIntervalMs: 60_000, pingTimeoutMs: 60_000 });
  return {
    link,
    entrance,
    close: async () => {
      link.close("test over");
      entrance.close("test over");
      await Promise.all([link.closed, entrance.closed]);
    },
  };
}

/** The session on `link`: an IPv4 link subnet, one route; `options` says what a test changes. */
function startSession(link: Link, options: Partial<ExitSessionOptions>): Promise<ExitSession> {
  return ExitSession.start({
    link,
    mtu: 1500,
    subnetV4: "198.18.0.0/30",
    subnetV6: null,
    routes: ["198.19.0.0/16"],
    allowLocal: false,
    dns: "all",
    ...options,
  });
}

/** A DNS engine that asks only the fake resolver on `port`, with no search domains. */
function fakeResolverEngine(port: number): DnsEngine {
  return new DnsEngine({
    resolvers: [{ address: "127.0.0.1", port }],
    lookup: () => Promise.reject(new Error("no getaddrinfo in this test")),
    searchDomains: () => Promise.resolve([]),
  });
}

test("without an IPv6 link subnet, IPv6 prefixes are left out of the CONFIG and said, and the link stays up", async () => {
  const { link, entrance, close } = exitLinkPair();
  const logs: string[] = [];
  const configs: LinkConfig[] = [];
  entrance.on("config", (config) => configs.push(config));
  const session = await startSession(link, {
    routes: ["198.19.0.0/16", "2001:db8:19::/48"],
    dns: "off",
    log: (line) => logs.push(line),
  });
  await once(entrance, "config");
  assert.deepEqual(configs[0]?.routes, ["198.19.0.0/16"]);
  assert.equal(configs[0]?.subnetV6, null);
  session.updateRoutes(["198.19.0.0/16", "198.20.0.0/16", "2001:db8:20::/48"]);
  await once(entrance, "config");
  assert.deepEqual(configs[1]?.routes, ["198.19.0.0/16", "198.20.0.0/16"]);
  assert.ok(
    logs.some((line) => line.includes("not routing 2001:db8:19::/48")),
    logs.join("\n"),
  );
  assert.equal(link.isOpen, true, "the link is still open");
  await close();
});

for (const mode of ["all", "split", "off"] as const)
  test(`the exit announces Streams: a stream opened by name shows in the session's NAT and DNS tables (--dns ${mode})`, async () => {
    const resolver = await fakeResolver();
    const server = await tcpServer();
    const { link, entrance, close } = exitLinkPair(Capability.Streams);
    const opener = new LinkStreamOpener(entrance);
    const config = once(entrance, "config") as Promise<[LinkConfig]>;
    const session = await startSession(link, {
      allowLocal: true,
      dns: mode,
      dnsDomains: ["corp.test"],
      dnsEngine: fakeResolverEngine(resolver.port),
    });
    const stream = await opener.open({ kind: "name", name: SERVER_NAME, port: server.port });
    await server.next();
    assert.equal(stream.remoteAddress, "127.0.0.1");
    const [row] = session.nat.table.snapshot();
    assert.equal(row?.remote, "198.18.0.1 stream 1");
    assert.equal(row?.name, SERVER_NAME, "a stream opened by name carries it");
    assert.equal(row?.destination, `127.0.0.1:${server.port}`);
    assert.equal(row?.state, "ESTABLISHED");
    // DNS off leaves the remote's resolver alone; the proxy's names are still looked up here.
    assert.equal((await config)[0].dns.mode, mode);
    const names = session.dns.table
      .snapshot()
      .map((dnsRow) => `${dnsRow.name} ${dnsRow.type} ${dnsRow.transport}`);
    assert.deepEqual(names?.sort(), [`${SERVER_NAME} A stream`, `${SERVER_NAME} AAAA stream`]);
    await close();
    server.close();
    resolver.close();
  });

test("split DNS: the CONFIG carries the session's domains and the routes' reverse zones, and follows the routes", async () => {
  const { link, entrance, close } = exitLinkPair();
  const configs: LinkConfig[] = [];
  entrance.on("config", (config) => configs.push(config));
  const session = await startSession(link, {
    subnetV6: "2001:db8:1::/64",
    routes: ["198.19.0.0/16", "2001:db8:19::/48"],
    dns: "split",
    dnsDomains: ["Corp.Test.", "lab.test"],
  });
  await once(entrance, "config");
  assert.deepEqual(configs[0]?.dns, {
    mode: "split",
    servers: ["198.18.0.2", "2001:db8:1::2"],
    domains: ["corp.test", "lab.test", "19.198.in-addr.arpa", "9.1.0.0.8.b.d.0.1.0.0.2.ip6.arpa"],
  });
  assert.ok(session.dns, "split mode answers at the stub: the DNS engine runs");
  session.updateRoutes(["198.19.0.0/16", "10.20.0.0/16"]);
  await once(entrance, "config");
  assert.deepEqual(configs[1]?.dns.mode === "split" && configs[1].dns.domains, [
    "corp.test",
    "lab.test",
    "19.198.in-addr.arpa",
    "20.10.in-addr.arpa",
  ]);
  await close();
});

test("split DNS: this computer's domains changed mid-session: a CONFIG carries them; all and off send none", async () => {
  for (const mode of ["split", "all", "off"] as const) {
    const { link, entrance, close } = exitLinkPair();
    const configs: LinkConfig[] = [];
    entrance.on("config", (config) => configs.push(config));
    const session = await startSession(link, { dns: mode, dnsDomains: ["corp.test"] });
    await once(entrance, "config");
    session.updateDnsDomains(["corp.test", "vpn.test"]);
    session.updateDnsDomains(["corp.test", "vpn.test"]); // unchanged: nothing more is sent
    // A CONFIG after them (the routes') shows whether they sent one of their own.
    session.updateRoutes(["198.19.0.0/16"]);
    await until(() => configs.length >= 2, 5_000, "the routes' CONFIG");
    await new Promise((resolve) => setImmediate(resolve));
    if (mode === "split") {
      assert.equal(configs.length, 3, `${mode}: one CONFIG for the new domains, one for the routes`);
      assert.deepEqual(configs[1]?.dns, {
        mode: "split",
        servers: ["198.18.0.2"],
        domains: ["corp.test", "vpn.test", "19.198.in-addr.arpa"],
      });
    } else {
      assert.equal(configs.length, 2, `${mode}: the domains change nothing`);
      assert.equal(configs[1]?.dns.mode, mode);
    }
    await close();
  }
});

test("a DNS mode changed mid-session goes to the agent in a CONFIG (split → all → off → split); the routes stay", async () => {
  const { link, entrance, close } = exitLinkPair();
  const configs: LinkConfig[] = [];
  entrance.on("config", (config) => configs.push(config));
  const session = await startSession(link, {
    routes: ["198.19.0.0/16"],
    dns: "split",
    dnsDomains: ["corp.test"],
  });
  await once(entrance, "config");
  session.updateDnsMode("all", []);
  session.updateDnsMode("all", []); // unchanged: nothing more is sent
  session.updateDnsMode("off", []);
  session.updateDnsMode("split", ["corp.test", "vpn.test"]);
  session.updateDnsDomains(["vpn.test"]); // split again: its domains follow as before
  await until(() => configs.length >= 5, 5_000, "a CONFIG for each change");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    configs.map((config) => config.dns),
    [
      { mode: "split", servers: ["198.18.0.2"], domains: ["corp.test", "19.198.in-addr.arpa"] },
      { mode: "all", servers: ["198.18.0.2"] },
      { mode: "off" },
      { mode: "split", servers: ["198.18.0.2"], domains: ["corp.test", "vpn.test", "19.198.in-addr.arpa"] },
      { mode: "split", servers: ["198.18.0.2"], domains: ["vpn.test", "19.198.in-addr.arpa"] },
    ],
  );
  assert.ok(
    configs.every((config) => config.routes.join() === "198.19.0.0/16"),
    "the routes stay",
  );
  await close();
});

test("access to this computer changed mid-session: a stream to its loopback is refused, then opens, then is reset when access is switched off", async () => {
  const server = await tcpServer();
  const { link, entrance, close } = exitLinkPair(Capability.Streams);
  const opener = new LinkStreamOpener(entrance);
  const session = await startSession(link, { allowLocal: false, dns: "off" });
  try {
    await assert.rejects(opener.open({ kind: "address", address: "127.0.0.1", port: server.port }));
    assert.equal(session.setAllowLocal(true), 0, "switching on ends nothing");
    const stream = await opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    const socket = await server.next();
    assert.equal(stream.remoteAddress, "127.0.0.1");
    const entranceSaw = new Promise<StreamStatus>((resolve) => stream.onClose(resolve));
    // The destination's side is reset (ECONNRESET): its "close" is what counts, not the error.
    const destinationClosed = new Promise((resolve) => socket.once("close", resolve));

    assert.equal(session.setAllowLocal(false), 1, "the open stream to this computer");
    assert.equal(await entranceSaw, StreamStatus.NotAllowed);
    await destinationClosed;
    const row = session.nat.table.snapshot().find((r) => r.localSocket !== null); // the one that connected
    assert.equal(row?.closeReason, "access to this computer was switched off");
    assert.equal(session.setAllowLocal(false), 0, "nothing left to end");
    await assert.rejects(opener.open({ kind: "address", address: "127.0.0.1", port: server.port }));
  } finally {
    await close();
    server.close();
  }
});

// --dns off: the remote's resolver never asks the stub, but the proxy entrance's UDP ASSOCIATE
// resolves names there (udp-relay.ts), as streams resolve theirs here in every mode.
for (const mode of ["all", "off"] as const)
  test(`a flow to an address the remote resolved through the stub carries that name in the NAT table (--dns ${mode})`, async () => {
    const resolver = await fakeResolver();
    const server = await tcpServer();
    const { link, entrance, close } = exitLinkPair();
    const session = await startSession(link, {
      allowLocal: true,
      dns: mode,
      dnsEngine: fakeResolverEngine(resolver.port),
    });
    try {
      await resolveThenConnect(session, entrance, server.port);
      const rows = session.nat.table.snapshot().filter((row) => row.destination.startsWith("127.0.0.1:"));
      assert.deepEqual(rows.map((row) => [row.protocol, row.name]).sort(), [
        ["tcp", SERVER_NAME],
        ["udp", SERVER_NAME],
      ]);
    } finally {
      await close();
      server.close();
      resolver.close();
    }
  });

/**
 * The remote asks the stub (198.18.0.2) for SERVER_NAME, as its resolver does over the TUN, then
 * opens a TCP and a UDP flow to the address it got.
 */
async function resolveThenConnect(session: ExitSession, entrance: Link, port: number): Promise<void> {
  const remote = parseAddress("198.18.0.1");
  const loopback = parseAddress("127.0.0.1");
  let answered = false;
  entrance.on("packets", (packets: Buffer[]) => {
    for (const packet of packets) {
      const transport = parseTransport(parseIp(packet));
      if (transport.kind === "udp" && transport.udp.srcPort === 53) answered = true;
    }
  });
  await entrance.ready;
  const query = makeQuery(SERVER_NAME);
  entrance.sendPacket(
    buildUdpPacket({
      src: remote,
      dst: parseAddress("198.18.0.2"),
      srcPort: 5353,
      dstPort: 53,
      payload: query,
    }),
  );
  await until(() => answered, 5_000, "the stub's answer");
  entrance.sendPacket(
    buildTcpPacket({
      src: remote,
      dst: loopback,
      srcPort: 40000,
      dstPort: port,
      seq: 1,
      ack: 0,
      flags: TcpFlag.SYN,
      window: 65535,
    }),
  );
  entrance.sendPacket(
    buildUdpPacket({ src: remote, dst: loopback, srcPort: 40001, dstPort: 9, payload: Buffer.from("x") }),
  );
  await until(() => session.nat.table.snapshot().length >= 2, 5_000, "two flows");
}

test("this computer's routes changed: the DNS configuration is read again, and names go to the new resolvers", async () => {
  const { link, close } = exitLinkPair();
  let servers = [{ address: "198.18.0.53", port: 53 }];
  let reads = 0;
  const { exchange, calls } = scriptedExchange(() => ({ answers: [] }));
  const session = await startSession(link, {
    dnsEngine: new DnsEngine({
      dnsConfig: async () => {
        reads++;
        return fixedDnsConfig(servers);
      },
      exchange,
      lookup: () => Promise.reject(new Error("no getaddrinfo in this test")),
    }),
  });
  assert.equal(reads, 1, "read at the start, before the remote's first query");
  await session.dns?.handleQuery(makeQuery("a.corp.test", { type: "TXT" }), "udp");
  assert.equal(calls.at(-1)?.upstream.address, "198.18.0.53");
  servers = [{ address: "198.18.0.54", port: 53 }];
  session.updateRoutes(["198.19.0.0/16", "198.20.0.0/16"]);
  assert.equal(reads, 2);
  await session.dns?.refreshDnsConfig();
  await session.dns?.handleQuery(makeQuery("a.corp.test", { type: "TXT" }), "udp");
  assert.equal(calls.at(-1)?.upstream.address, "198.18.0.54", "the new configuration, its cache emptied");
  await close();
});
