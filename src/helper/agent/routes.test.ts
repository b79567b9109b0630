import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  parsePeerRoute,
  parseRouteTable,
  planRoutes,
  readRemoteRouting,
  type RemoteRouting,
} from "./routes.js";
import { recordingRunner } from "../system/testing.js";

// Recorded in a namespace with: eth0 198.19.5.1/24 + 2001:db8:5::1/64 and default routes via it,
// 198.18.64.0/24 via 198.19.5.2, unreachable 198.18.65.0/24, wg0 198.18.100.2/32 with
// 198.18.96.0/20 in table 52, and bh0 (standing in for the TUN) with 198.19.0.0/16.
const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const V4 = fixture("ip-j-4-route-all.txt");
const V6 = fixture("ip-j-6-route-all.txt");
const PEER = fixture("ip-j-route-get.txt");

type RoutePlan = ReturnType<typeof planRoutes>;

/** What a plan leaves out, and why. */
const skipped = (plan: RoutePlan): string[][] => plan.skip.map((skip) => [skip.prefix, skip.reason]);

/** The prefixes a plan routes into the link. */
const routed = (plan: RoutePlan): string[] => plan.route.map((route) => route.prefix);

async function recordedRouting(sshPeer?: string): Promise<RemoteRouting> {
  const runner = recordingRunner((command) => {
    if (command === "ip -j -4 route show table all") return { stdout: V4 };
    if (command === "ip -j -6 route show table all") return { stdout: V6 };
    if (command === "ip -j route get 198.18.64.9") return { stdout: PEER };
    return { fails: `unexpected ${command}` };
  });
  return readRemoteRouting({ ownDev: "bh0", sshPeer, run: runner.run });
}

describe("parseRouteTable", () => {
  test("finds connected networks and own addresses, leaving out the agent's own device", () => {
    const { networks, mainRoutes } = parseRouteTable(V4, 4, "bh0");
    assert.deepEqual(
      networks.map((network) => `${network.kind} ${network.prefix} ${network.dev}`),
      [
        "connected 198.18.96.0/20 wg0",
        "connected 198.19.5.0/24 eth0",
        "address 127.0.0.0/8 lo",
        "address 127.0.0.1/32 lo",
        "address 198.18.100.2/32 wg0",
        "address 198.19.5.1/32 eth0",
      ],
    );
    assert.deepEqual(
      mainRoutes.map((route) => route.description),
      [
        "default via 198.19.5.254 dev eth0",
        "198.18.64.0/24 via 198.19.5.2 dev eth0",
        "unreachable 198.18.65.0/24",
        "198.19.5.0/24 dev eth0",
      ],
    );
    assert.ok(!networks.some((network) => network.dev === "bh0"));
  });

  test("IPv6: connected and link-local networks and own addresses", () => {
    const { networks } = parseRouteTable(V6, 6, "bh0");
    assert.ok(
      networks.some((n) => n.kind === "connected" && n.prefix === "2001:db8:5::/64" && n.dev === "eth0"),
    );
    assert.ok(networks.some((n) => n.kind === "address" && n.prefix === "2001:db8:5::1/128"));
    assert.ok(!networks.some((n) => n.prefix.startsWith("2001:db8:1:") || n.prefix === "2001:db8:1::/64"));
  });

  test("the SSH peer and its gateway are part of the link's path", () => {
    assert.deepEqual(parsePeerRoute(PEER, "198.18.64.9", "bh0"), [
      { address: "198.18.64.9", role: "SSH peer" },
      { address: "198.19.5.2", role: "gateway to the SSH peer" },
    ]);
    assert.deepEqual(parsePeerRoute("", "198.18.64.9", "bh0"), [
      { address: "198.18.64.9", role: "SSH peer" },
    ]);
    assert.throws(
      () => parsePeerRoute("198.18.64.9 via 198.19.5.2", "198.18.64.9", "bh0"),
      /did not print JSON: iproute2 4\.17/,
    );
  });
});

describe("planRoutes", () => {
  test("skips prefixes inside the remote's own networks, routes wider ones and says which stay local", async () => {
    const plan = planRoutes(
      [
        "198.19.0.0/16",
        "198.19.5.0/24",
        "198.19.5.128/25",
        "198.18.100.2/32",
        "2001:db8:19::/48",
        "2001:db8:5::/64",
        "198.19.0.0/16",
      ],
      await recordedRouting(),
    );
    assert.deepEqual(
      plan.route.map((route) => [
        route.prefix,
        route.keptLocal.map((network) => `${network.prefix} ${network.dev}`),
      ]),
      [
        ["198.19.0.0/16", ["198.19.5.0/24 eth0"]],
        ["2001:db8:19::/48", []],
      ],
    );
    assert.deepEqual(skipped(plan), [
      ["198.19.5.0/24", "inside-remote-network"],
      ["198.19.5.128/25", "inside-remote-network"],
      ["198.18.100.2/32", "inside-remote-network"],
      ["2001:db8:5::/64", "inside-remote-network"],
    ]);
    assert.equal(
      plan.skip[0]?.message,
      "198.19.5.0/24 is not routed: it lies inside 198.19.5.0/24, a network the remote is connected to on eth0; the remote keeps reaching it directly",
    );
    assert.match(plan.skip[2]?.message ?? "", /the remote's own address range 198\.18\.100\.2\/32 on wg0/);
  });

  test("never routes the SSH peer or its gateway into the link", async () => {
    const plan = planRoutes(
      ["198.18.64.0/18", "198.19.0.0/16", "198.18.128.0/17"],
      await recordedRouting("198.18.64.9"),
    );
    assert.deepEqual(
      plan.skip.map((skip) => skip.message),
      [
        "198.18.64.0/18 is not routed: it contains the SSH peer 198.18.64.9, so the link's own traffic would go into the link",
        "198.19.0.0/16 is not routed: it contains the gateway to the SSH peer 198.19.5.2, so the link's own traffic would go into the link",
      ],
    );
    assert.deepEqual(routed(plan), ["198.18.128.0/17"]);
  });

  test("leaves the remote's own routes for exactly the same prefix, and says why bad input is skipped", async () => {
    const plan = planRoutes(
      ["198.18.64.0/24", "198.18.65.0/24", "198.18.66.0/24", "10.1.2.3/8", "bogus"],
      await recordedRouting(),
    );
    assert.deepEqual(routed(plan), ["198.18.66.0/24"]);
    assert.deepEqual(skipped(plan), [
      ["198.18.64.0/24", "already-routed"],
      ["198.18.65.0/24", "already-routed"],
      ["10.1.2.3/8", "invalid"],
      ["bogus", "invalid"],
    ]);
    assert.match(
      plan.skip[0]?.message ?? "",
      /own route for it \(198\.18\.64\.0\/24 via 198\.19\.5\.2 dev eth0\)/,
    );
    assert.match(plan.skip[2]?.message ?? "", /did you mean 10\.0\.0\.0\/8/);
  });
});
