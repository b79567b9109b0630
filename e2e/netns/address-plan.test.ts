// The address plan keeps the labs inside the ranges DESIGN.md allows, and each role on its link.
import assert from "node:assert/strict";
import { test } from "node:test";
import ipaddr from "ipaddr.js";
import * as plan from "./address-plan.js";

const ALLOWED = [ipaddr.parseCIDR("198.18.0.0/15"), ipaddr.parseCIDR("2001:db8::/32")];

/** Every string in the plan's constants, with the path that leads to it ("LAN.server.v4"). */
function strings(value: unknown, path: string): [string, string][] {
  if (typeof value === "string") return [[path, value]];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => strings(inner, `${path}.${key}`));
}

function inside(address: string, cidr: string): boolean {
  const parsed = ipaddr.parse(address);
  const range = ipaddr.parseCIDR(cidr);
  return parsed.kind() === range[0].kind() && parsed.match(range);
}

const constants = Object.entries(plan).filter(([, value]) => typeof value === "object");

test("every address and prefix of the plan is in 198.18.0.0/15 or 2001:db8::/32", () => {
  const found = constants.flatMap(([name, value]) => strings(value, name));
  assert.ok(found.length > 50, `the plan's strings were found (${found.length})`);
  for (const [path, text] of found) {
    const address = text.split("/")[0] ?? "";
    assert.ok(ipaddr.isValid(address), `${path} = ${text} is an address or a prefix`);
    const parsed = ipaddr.parse(address);
    assert.ok(
      ALLOWED.some((range) => parsed.kind() === range[0].kind() && parsed.match(range)),
      `${path} = ${text} is outside the ranges the tests may use`,
    );
  }
});

test("each role of a link has an address inside that link's network, in each family it has", () => {
  const links = constants.flatMap(([name, value]) =>
    [
      [name, value] as const,
      ...Object.entries(value as object).map(([key, inner]) => [`${name}.${key}`, inner] as const),
    ].filter(
      ([, candidate]) => typeof candidate === "object" && candidate !== null && "network" in candidate,
    ),
  );
  assert.ok(links.length >= 8, `links were found (${links.length})`);
  for (const [name, link] of links) {
    const { network, ...roles } = link as { network: plan.Network | string } & Record<string, unknown>;
    if (typeof network === "string") continue;
    for (const [role, host] of Object.entries(roles)) {
      if (typeof host !== "object" || host === null || !("v4" in host)) continue;
      const { v4, v6 } = host as plan.Host;
      assert.ok(inside(v4, network.v4), `${name}.${role} ${v4} should be in ${network.v4}`);
      if (v6 !== undefined)
        assert.ok(network.v6 && inside(v6, network.v6), `${name}.${role} ${v6} should be in ${network.v6}`);
    }
  }
});

test("onNetwork gives each host the network's prefix lengths, in both families where both exist", () => {
  assert.deepEqual(plan.onNetwork(plan.LAN.network, plan.LAN.local, plan.LAN.dns), [
    "198.19.0.1/24",
    "2001:db8:19::1/64",
    "198.19.0.53/24",
    "2001:db8:19::53/64",
  ]);
  assert.deepEqual(plan.onNetwork(plan.SSH_LINK.network, plan.SSH_LINK.remote), ["198.18.1.1/30"]);
  assert.deepEqual(plan.prefixes(plan.ADVERTISED), ["198.19.0.0/16", "2001:db8:19::/48"]);
});

test("hostIn counts from a prefix's own address and broadcastOf ends an IPv4 prefix", () => {
  assert.equal(plan.hostIn("198.19.202.0/24", 1), "198.19.202.1");
  assert.equal(plan.hostIn("198.18.0.0/30", 3), "198.18.0.3");
  assert.equal(plan.hostIn("2001:db8:19:50::/64", 0), "2001:db8:19:50::");
  assert.equal(plan.hostIn("2001:db8:19:205::/64", 1), "2001:db8:19:205::1");
  assert.equal(plan.hostIn("198.18.0.255/32", 1), "198.18.1.0", "a carry crosses bytes");
  assert.equal(plan.broadcastOf("198.19.50.0/24"), "198.19.50.255");
});
