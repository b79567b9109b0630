import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Capability, type LinkDnsConfig } from "../../shared/link-protocol.js";
import { encodeFrame } from "../../shared/link-protocol.js";
import { DiagnoseFrameType } from "../../shared/diagnose-frames.js";
import { Link } from "../engines/link/link.js";
import { createMemoryPipe } from "../engines/link/memory-pipe.js";
import { RemoteCheckError, RemoteChecks } from "../engines/link/remote-checks.js";
import { StreamOpenError, StreamStatus, type StreamOpener } from "../../shared/link-streams.js";
import {
  answerDiagnose,
  nameServers,
  serveRemoteChecks,
  streamConnect,
  viaStub,
  type AgentProbes,
} from "./remote-diagnose.js";
import type { RemoteRouting, RoutePlan } from "./routes.js";

const STUB = "198.18.0.2";
const ALL: LinkDnsConfig = { mode: "all", servers: [STUB] };

/** The remote of these tests: R on 198.19.1.0/24 itself (eth0), 198.19.0.0/16 routed into bh0. */
const ROUTING: RemoteRouting = {
  networks: [
    { prefix: "198.19.1.0/24", dev: "eth0", kind: "connected" },
    { prefix: "198.19.1.99/32", dev: "eth0", kind: "address" },
  ],
  mainRoutes: [
    { prefix: "0.0.0.0/0", description: "default via 198.18.1.2 dev eth1" },
    { prefix: "198.19.1.0/24", description: "198.19.1.0/24 dev eth0" },
  ],
  linkPath: [],
};
const PLAN: RoutePlan = {
  route: [{ prefix: "198.19.0.0/16", keptLocal: [ROUTING.networks[0]!] }],
  skip: [
    {
      prefix: "198.19.1.0/24",
      reason: "inside-remote-network",
      message:
        "198.19.1.0/24 is not routed: it lies inside 198.19.1.0/24, a network the remote is connected to on eth0",
    },
  ],
};

function linkPair(agentCapabilities = Capability.Diagnose): { exit: Link; agent: Link } {
  const [a, b] = createMemoryPipe();
  return {
    exit: new Link(a, { role: "exit", softwareVersion: "test", capabilities: Capability.Diagnose }),
    agent: new Link(b, { role: "entrance", softwareVersion: "old", capabilities: agentCapabilities }),
  };
}

describe("remote checks over a link, answered by the agent's probes", () => {
  let open: ReturnType<typeof createServer>;
  let openPort: number;
  let closedPort: number;
  before(async () => {
    open = createServer((socket) => socket.destroy()).listen(0, "127.0.0.1");
    await once(open, "listening");
    openPort = (open.address() as AddressInfo).port;
    // A port that was just free: nothing listens there, so a connect is refused.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  after(() => open.close());

  const probes = (route: Record<string, string>): AgentProbes => ({
    lookup: (name) =>
      name === "db.corp.test"
        ? Promise.resolve(["127.0.0.1"])
        : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" })),
    resolvConf: () => Promise.resolve(`# ours\nnameserver ${STUB}\nnameserver 198.19.0.53\n`),
    routeGet: (address) => Promise.resolve(JSON.stringify([{ dst: address, ...route }])),
    routing: () => Promise.resolve(ROUTING),
    connect: async (address, port) => {
      const { connect } = await import("node:net");
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: address, port });
        socket.once("connect", () => (socket.destroy(), resolve()));
        socket.once("error", reject);
      });
    },
  });

  const serve = (agent: Link, route: Record<string, string>): void =>
    serveRemoteChecks(
      agent,
      { entrance: "tun", tunName: "bh0", dns: () => ALL, routePlan: () => PLAN },
      probes(route),
    );

  test("a name the stub answers, routed into the tunnel, and a real connect that succeeds", async () => {
    const { exit, agent } = linkPair();
    serve(agent, { dev: "bh0" });
    await exit.ready;
    const result = await new RemoteChecks(exit).ask({ host: "db.corp.test", port: openPort, address: null });
    assert.deepEqual(result.dns?.addresses, ["127.0.0.1"]);
    assert.equal(result.dns?.viaStub, true);
    assert.deepEqual(result.dns?.servers, [STUB, "198.19.0.53"]);
    assert.equal(result.route?.viaTunnel, true);
    assert.equal(result.connect?.ok, true);
    exit.close();
  });

  test("an address the remote keeps on its own network: the skipped prefix and the own route are named", async () => {
    const { exit, agent } = linkPair();
    serve(agent, { dev: "eth0" });
    await exit.ready;
    const result = await new RemoteChecks(exit).ask({ host: "198.19.1.10", port: 80, address: null });
    assert.equal(result.route?.viaTunnel, false);
    assert.equal(result.route?.tunnelPrefix, "198.19.0.0/16");
    assert.deepEqual(result.route?.skipped?.prefix, "198.19.1.0/24");
    assert.equal(result.route?.skipped?.reason, "inside-remote-network");
    assert.deepEqual(result.route?.ownRoute, {
      prefix: "198.19.1.0/24",
      dev: "eth0",
      kind: "connected",
      description: "198.19.1.0/24 dev eth0",
    });
    exit.close();
  });

  test("a refused port and an unknown name come back with their error codes", async () => {
    const { exit, agent } = linkPair();
    serve(agent, { dev: "bh0" });
    await exit.ready;
    const checks = new RemoteChecks(exit);
    const refused = await checks.ask({ host: "127.0.0.1", port: closedPort, address: null });
    assert.equal(refused.connect?.ok, false);
    assert.equal(refused.connect?.code, "ECONNREFUSED");
    const unknown = await checks.ask({ host: "nowhere.corp.test", port: 80, address: null });
    assert.match(unknown.dns?.error ?? "", /ENOTFOUND/);
    assert.equal(unknown.address, null);
    assert.equal(unknown.connect, null);
    // This computer's answer is checked when the remote has none.
    const fallback = await checks.ask({ host: "nowhere.corp.test", port: openPort, address: "127.0.0.1" });
    assert.equal(fallback.address, "127.0.0.1");
    assert.equal(fallback.connect?.ok, true);
    exit.close();
  });

  test("an older agent without the capability: the asker says so at once; its frames are skipped", async () => {
    const { exit, agent } = linkPair(0);
    await exit.ready;
    await assert.rejects(
      new RemoteChecks(exit).ask({ host: "a.test", port: 1, address: null }),
      (error: unknown) => error instanceof RemoteCheckError && error.code === "UNSUPPORTED",
    );
    assert.equal(exit.sendDiagnoseRequest({ id: 1, host: "a.test", port: 1, address: null }), false);
    await agent.ready;
    exit.close();
  });

  test("a result nobody asked for is dropped and counted; a malformed one is counted as malformed", async () => {
    const [a, b] = createMemoryPipe();
    const exit = new Link(a, { role: "exit", softwareVersion: "t", capabilities: Capability.Diagnose });
    const checks = new RemoteChecks(exit);
    const malformed = once(exit, "malformed");
    b.write(
      encodeFrame(
        1,
        Buffer.from([0, 1, 1, 0, 0, 0, Capability.Diagnose, ...Buffer.from("hostile")]), // HELLO v1 entrance
      ),
    );
    await exit.ready;
    const unsolicited = {
      id: 99,
      entrance: "tun",
      dns: null,
      address: null,
      route: null,
      connect: null,
      error: null,
    };
    b.write(encodeFrame(DiagnoseFrameType.Result, Buffer.from(JSON.stringify(unsolicited))));
    b.write(
      encodeFrame(DiagnoseFrameType.Result, Buffer.from('{"id":1,"entrance":"tun","address":"rm -rf /"}')),
    );
    await malformed;
    assert.equal(checks.unmatched, 1);
    assert.equal(exit.counters.malformedFrames, 1);
    assert.equal(exit.isOpen, true, "nothing the agent sends closes the link");
    exit.close();
  });
});

test("resolv.conf's name servers, and whether a name goes to the stub", () => {
  assert.deepEqual(
    nameServers("nameserver 127.0.0.53\n nameserver  bad\nsearch x\nnameserver 2001:db8::2\n"),
    ["127.0.0.53", "2001:db8::2"],
  );
  assert.equal(viaStub("a.test", [STUB], ALL), true);
  assert.equal(viaStub("a.test", ["10.0.0.2"], ALL), false);
  assert.equal(viaStub("a.test", [STUB], { mode: "off" }), false);
  const split: LinkDnsConfig = { mode: "split", servers: [STUB], domains: ["corp.test"] };
  assert.equal(viaStub("vault.corp.test", ["127.0.0.53"], split), true);
  assert.equal(viaStub("CORP.test.", ["127.0.0.53"], split), true);
  assert.equal(viaStub("registry.npmjs.org", ["127.0.0.53"], split), false);
  assert.equal(viaStub("xcorp.test", ["127.0.0.53"], split), false);
  // resolv.conf naming the agent's split forwarder on the TUN's own address.
  assert.equal(viaStub("vault.corp.test", ["198.18.0.1"], split, ["198.18.0.1"]), true);
  assert.equal(viaStub("registry.npmjs.org", ["198.18.0.1"], split, ["198.18.0.1"]), false);
  assert.equal(viaStub("vault.corp.test", ["198.18.0.1"], split), false);
});

test("the proxy entrance connects through a link stream, and says a refusal as a socket would", async () => {
  const refusing: StreamOpener = {
    open: () =>
      Promise.reject(new StreamOpenError(StreamStatus.Refused, "the destination refused the connection")),
  };
  const noRoute = (): Promise<never> => Promise.reject(new Error("the proxy entrance asks no route"));
  const result = await answerDiagnose(
    { id: 5, host: "198.19.1.10", port: 81, address: null },
    { entrance: "proxy", tunName: null, dns: () => null, routePlan: () => null },
    {
      lookup: noRoute,
      resolvConf: noRoute,
      routeGet: noRoute,
      routing: noRoute,
      connect: noRoute,
      connectThroughTunnel: streamConnect(refusing),
    },
  );
  assert.equal(result.entrance, "proxy");
  assert.equal(result.route, null);
  assert.equal(result.connect?.ok, false);
  assert.equal(result.connect?.code, "ECONNREFUSED");
});
