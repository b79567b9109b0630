// Both directions on one link, in one process: this computer's `--socks` proxy (ExitSession)
// opens streams at the agent's exit (ReverseExit) over a memory pipe; curl goes through it by a
// name only the "remote's" hosts file knows, to a real server. The exit's egress policy refuses
// the remote itself unless allowed, and its rows come back to this computer's NAT table.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { Capability, type LinkConfig } from "../../shared/link-protocol.js";
import { until } from "../../shared/test-until.js";
import { DnsEngine } from "./dns/engine.js";
import { hostsFileLookup } from "./dns/hosts-file.js";
import { ExitSession, openExitLink } from "./exit-session.js";
import { Link } from "./link/link.js";
import { createMemoryPipe } from "./link/memory-pipe.js";
import { MIRRORED_ID_BASE } from "./nat/flow-table.js";
import { newCredentials } from "./proxy/credentials.js";
import { ReverseExit } from "./reverse-exit.js";
import { findOnPath, skipSaying } from "../../../e2e/netns/preconditions.js";
import { createSocket } from "node:dgram";
import { decode, encode } from "dns-packet";
import { formatAddress } from "../../shared/ip-prefix.js";
import { parseIp, parseTransport, udpPacketLength, writeUdpPacket, type UdpSpec } from "./packet/index.js";

const NAME = "private.remote.test";
const noCurl = findOnPath("curl") ? undefined : "`curl` is not installed (Debian package curl)";

function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile("curl", ["-sS", "-m", "10", ...args], (error, stdout) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout }),
    );
  });
}

async function httpServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.once("data", () =>
      socket.end("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nfrom-p"),
    );
    socket.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port };
}

async function bothDirections(allowRemoteLocal: boolean, socksOwnerUid = process.getuid?.()) {
  const dir = mkdtempSync(join(tmpdir(), "bh-reverse-"));
  const hosts = join(dir, "hosts");
  writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${NAME} # only the remote knows it\n`);
  const [helperEnd, agentEnd] = createMemoryPipe();
  const agent = new Link(agentEnd, {
    role: "entrance",
    softwareVersion: "agent-test",
    capabilities: Capability.Streams | Capability.Reverse,
  });
  const exits: ReverseExit[] = [];
  agent.once("config", (config: LinkConfig) => {
    const { reverse } = config;
    assert.ok(reverse, "the CONFIG carries the reverse settings");
    const dns = new DnsEngine({
      // A closed port: the remote's "resolvers" fail at once, the hosts file answers.
      resolvers: [{ address: "127.0.0.1", port: 9 }],
      lookup: hostsFileLookup(hosts),
      searchDomains: () => Promise.resolve([]),
    });
    exits.push(new ReverseExit({ link: agent, config: { ...config, reverse }, dns, flowsIntervalMs: 100 }));
  });
  const link = openExitLink(helperEnd, { keepaliveIntervalMs: 60_000, pingTimeoutMs: 60_000 });
  const credentials = newCredentials();
  const session = await ExitSession.start({
    link,
    mtu: 1500,
    subnetV4: "198.18.0.0/30",
    subnetV6: null,
    routes: [],
    allowLocal: false,
    dns: "off",
    reverse: { routes: [], allowLocal: allowRemoteLocal, dns: true },
    socks: { port: 0, ...credentials },
    ...(socksOwnerUid === undefined ? {} : { socksOwnerUid }),
  });
  const socks = await session.socks;
  assert.ok(socks, "the proxy listens");
  const close = async (): Promise<void> => {
    link.close("test over");
    agent.close("test over");
    await Promise.all([link.closed, agent.closed]);
    rmSync(dir, { recursive: true, force: true });
  };
  return { session, socks, credentials, exits, close };
}

/**
 * A curl test (skipped without curl): the remote's HTTP server on `port` and both directions,
 * closed after `body`; `owner` is the session's user (this process's by default).
 */
async function withCurlWorld(
  t: TestContext,
  allowRemoteLocal: boolean,
  body: (world: Awaited<ReturnType<typeof bothDirections>>, port: number) => Promise<void>,
  owner?: number,
): Promise<void> {
  if (noCurl) return skipSaying(t, noCurl);
  const { server, port } = await httpServer();
  const world = await bothDirections(allowRemoteLocal, owner);
  try {
    await body(world, port);
  } finally {
    await world.close();
    server.close();
  }
}

test("--socks on this computer: curl by a name of the remote's hosts file reaches its server; the row comes home", (t) =>
  withCurlWorld(t, true, async (world, port) => {
    const url = `http://${NAME}:${port}/`;
    // This process's own user needs no credentials (the OS says who the loopback peer is).
    const socks5h = await curl(["-x", `socks5h://127.0.0.1:${world.socks.port}`, url]);
    assert.deepEqual(socks5h, { code: 0, stdout: "from-p" });
    const http = await curl(["-x", `http://127.0.0.1:${world.socks.port}`, url]);
    assert.deepEqual(http, { code: 0, stdout: "from-p" });
    assert.equal(world.exits.length, 1);
    await until(() =>
      world.session.nat.table
        .snapshot()
        .some((row) => row.direction === "local-to-remote" && row.destination === `127.0.0.1:${port}`),
    );
    const rows = world.session.nat.table.snapshot();
    assert.ok(rows.every((row) => row.id > MIRRORED_ID_BASE && row.remote.startsWith("198.18.0.1 stream ")));
  }));

test("the remote itself (its loopback) is refused without --allow-remote-local", (t) =>
  withCurlWorld(t, false, async (world, port) => {
    const refused = await curl(["-x", `socks5h://127.0.0.1:${world.socks.port}`, `http://${NAME}:${port}/`]);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.stdout, "");
    await until(() => world.exits[0]?.nat.table.snapshot().some((row) => row.closeReason !== null) === true);
    const [row] = world.exits[0]!.nat.table.snapshot();
    assert.match(row?.closeReason ?? "", /not allowed/);
  }));

test("a client the OS does not say is the session's user must give the printed credentials", (t) =>
  withCurlWorld(
    t,
    true,
    async (world, port) => {
      const url = `http://${NAME}:${port}/`;
      const proxy = `127.0.0.1:${world.socks.port}`;
      assert.notEqual((await curl(["-x", `socks5h://${proxy}`, url])).code, 0, "SOCKS5 without credentials");
      const http = await curl(["-o", "/dev/null", "-w", "%{http_code}", "-x", `http://${proxy}`, url]);
      assert.equal(http.stdout, "407");
      const { username, password } = world.credentials;
      const allowed = await curl(["-x", `socks5h://${username}:${password}@${proxy}`, url]);
      assert.deepEqual(allowed, { code: 0, stdout: "from-p" });
    },
    // Another uid is the session's user here: this process is "another user of this computer".
    (process.getuid?.() ?? 0) + 4242,
  ));

test("this computer's TUN packets (remoteExitPort): the stub answers from the remote's hosts file, UDP leaves from the remote", async () => {
  const echo = createSocket("udp4");
  echo.on("message", (message, peer) =>
    echo.send(Buffer.concat([Buffer.from("echo:"), message]), peer.port, peer.address),
  );
  echo.bind(0, "127.0.0.1");
  await once(echo, "listening");
  const world = await bothDirections(true);
  const replies: Array<{ src: string; srcPort: number; dstPort: number; payload: Buffer }> = [];
  world.session.remoteExitPort.onPackets((packets) => {
    for (const packet of packets) {
      const ip = parseIp(packet);
      const transport = parseTransport(ip);
      if (transport.kind !== "udp") continue;
      const { srcPort, dstPort, payload } = transport.udp;
      replies.push({ src: formatAddress(ip.src), srcPort, dstPort, payload: Buffer.from(payload) });
    }
  });
  const send = (spec: Omit<UdpSpec, "src">): void => {
    const full: UdpSpec = { ...spec, src: Buffer.from([198, 18, 0, 1]) };
    const packet = Buffer.alloc(udpPacketLength(full));
    writeUdpPacket(packet, 0, full);
    world.session.remoteExitPort.send(packet);
  };
  try {
    const query = encode({
      type: "query",
      id: 7,
      flags: 0x0100,
      questions: [{ type: "A", name: NAME, class: "IN" }],
    });
    send({ dst: Buffer.from([198, 18, 0, 2]), srcPort: 40000, dstPort: 53, payload: query });
    const echoPort = (echo.address() as { port: number }).port;
    send({ dst: Buffer.from([127, 0, 0, 1]), srcPort: 40001, dstPort: echoPort, payload: Buffer.from("hi") });
    await until(() => replies.length === 2);
    const dns = replies.find((reply) => reply.dstPort === 40000);
    assert.equal(dns?.src, "198.18.0.2");
    const answer = decode(dns!.payload);
    assert.deepEqual(
      answer.answers?.map((record) => ("data" in record ? record.data : null)),
      ["127.0.0.1"],
    );
    const udp = replies.find((reply) => reply.dstPort === 40001);
    assert.equal(udp?.src, "127.0.0.1");
    assert.equal(udp?.payload.toString(), "echo:hi");
  } finally {
    await world.close();
    echo.close();
  }
});

test("what the agent's TUN routes home is refused, but not the remote's own network inside it", (t) =>
  withCurlWorld(t, true, async (world, port) => {
    const url = `http://${NAME}:${port}/`;
    const proxy = `socks5h://127.0.0.1:${world.socks.port}`;
    await until(() => world.exits.length === 1); // the agent's side starts with the CONFIG
    world.exits[0]!.setTunRoutes([{ prefix: "127.0.0.0/8", keptLocal: [] }]);
    assert.notEqual((await curl(["-x", proxy, url])).code, 0, "127.0.0.1 would go back through the link");
    world.exits[0]!.setTunRoutes([{ prefix: "127.0.0.0/8", keptLocal: [{ prefix: "127.0.0.0/24" }] }]);
    assert.deepEqual(await curl(["-x", proxy, url]), { code: 0, stdout: "from-p" });
  }));
