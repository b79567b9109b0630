// Reading this computer's addresses per OS, from recorded command output and /proc files
// (fixtures/own-addresses/README.md says where each comes from).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseAddress } from "../packet/index.js";
import { EgressPolicy } from "./egress-policy.js";
import { parseFibTrie, parseIfInet6, readLinuxOwnAddresses } from "./own-addresses-linux.js";
import { parseMacosIfconfig } from "./own-addresses-macos.js";
import { parseWindowsRoutePrint } from "./own-addresses-windows.js";
import { systemOwnAddresses } from "./system-own-addresses.js";
import { directedBroadcast, subnetRouterAnycast, type OwnAddresses } from "./own-addresses.js";

const fixture = (name: string): string =>
  readFileSync(new URL(`fixtures/own-addresses/${name}`, import.meta.url), "utf8");

const sorted = (list: readonly string[]): string[] => [...list].sort();

test("Linux fib_trie: every local address and local range, and every broadcast, carrier or not", () => {
  const { local, broadcast } = parseFibTrie(fixture("linux-fib-trie-docker0-nocarrier.txt"));
  assert.deepEqual(
    sorted(local),
    sorted(["127.0.0.0/8", "127.0.0.1", "198.18.1.23", "198.18.8.2", "198.18.200.0/24", "198.19.17.1"]),
  );
  assert.deepEqual(
    sorted(broadcast),
    sorted(["127.255.255.255", "198.18.1.255", "198.18.8.255", "198.19.255.255"]),
  );
});

test("Linux if_inet6: every IPv6 address, and the subnet-router anycast of each prefix", () => {
  const { local, anycast } = parseIfInet6(fixture("linux-if-inet6-docker0-nocarrier.txt"));
  assert.ok(local.includes("2001:0db8:0017:0000:0000:0000:0000:0001"), "docker0's address, without carrier");
  assert.equal(local.length, 7);
  // Link-local and loopback have none; each global /64 has one.
  assert.deepEqual(sorted(anycast), ["2001:db8:17::", "2001:db8:1::"]);
});

test("macOS ifconfig -a: addresses of inactive interfaces too, broadcasts, anycast", () => {
  const own = parseMacosIfconfig(fixture("macos-ifconfig-a-bridge-inactive.txt"));
  for (const address of ["127.0.0.1", "198.18.1.23", "198.19.64.1", "2001:db8:64::1", "198.18.8.6", "::1"]) {
    assert.ok(own.local.includes(address), address);
  }
  assert.ok(!own.local.includes("198.18.8.5"), "a point-to-point peer is not this computer");
  assert.deepEqual(sorted(own.broadcast), ["198.18.1.255", "198.19.64.255"]);
  assert.deepEqual(sorted(own.anycast), ["2001:db8:1::", "2001:db8:64::"]);
});

test("Windows route print: own addresses, subnet broadcasts, IPv6 /128 On-link and prefixes", () => {
  const tap = parseWindowsRoutePrint(fixture("windows-route-print-openvpn-tap-1.txt"));
  assert.deepEqual(
    sorted(tap.local),
    sorted([
      "10.8.0.6",
      "127.0.0.1",
      "192.168.204.161",
      "::1",
      "fe80::3d49:4a9e:a475:ed16",
      "fe80::a08b:ac02:61ba:8afc",
    ]),
  );
  // 10.8.0.7 is the broadcast of the /30; 10.8.0.1 and 192.168.204.254 are routes via gateways.
  assert.deepEqual(
    sorted(tap.broadcast),
    sorted(["10.8.0.7", "127.255.255.255", "192.168.204.255", "255.255.255.255"]),
  );

  const tailscale = parseWindowsRoutePrint(fixture("windows-route-print-tailscale-1.txt"));
  assert.ok(tailscale.local.includes("10.211.55.3"));
  assert.ok(tailscale.local.includes("169.254.83.107"));
  assert.ok(tailscale.local.includes("fdb2:2c26:f4e4:0:670f:fec7:75b7:eb83"), "a wrapped IPv6 line");
  assert.ok(tailscale.broadcast.includes("10.211.55.255"));
  assert.ok(!tailscale.local.includes("10.0.1.0"), "persistent and gatewayed routes are not own");
  assert.deepEqual(
    tailscale.anycast,
    ["fdb2:2c26:f4e4::"],
    "only the on-link prefix, not 2001:db8::/64 via fe80::1",
  );
});

test("address arithmetic: subnet-router anycast and directed broadcast", () => {
  assert.equal(subnetRouterAnycast("2001:db8:77::1", 64), "2001:db8:77::");
  assert.equal(subnetRouterAnycast("2001:db8:77:1:2:3:4:5", 48), "2001:db8:77::");
  assert.equal(subnetRouterAnycast("2001:db8::1", 127), undefined);
  assert.equal(subnetRouterAnycast("fe80::1", 64), undefined);
  assert.equal(subnetRouterAnycast("198.18.0.1", 24), undefined);
  assert.equal(directedBroadcast("198.18.77.1", 24), "198.18.77.255");
  assert.equal(directedBroadcast("198.18.8.4", 30), "198.18.8.7");
  assert.equal(directedBroadcast("198.18.8.4", 31), undefined);
});

test("the policy refuses what the kernel delivers locally: docker0 without carrier, local ranges, anycast; broadcast even when this computer is allowed", () => {
  const v4 = parseFibTrie(fixture("linux-fib-trie-docker0-nocarrier.txt"));
  const v6 = parseIfInet6(fixture("linux-if-inet6-docker0-nocarrier.txt"));
  const linux: OwnAddresses = {
    local: [...v4.local, ...v6.local],
    broadcast: v4.broadcast,
    anycast: v6.anycast,
  };
  const prefixes = ["198.18.0.0/15", "2001:db8::/32"];
  const strict = new EgressPolicy({ prefixes, allowLocal: false, ownAddresses: () => linux });
  const decide = (policy: EgressPolicy, address: string) => policy.check(parseAddress(address));
  for (const address of ["198.19.17.1", "198.18.200.77", "2001:db8:17::1", "2001:db8:17::", "2001:db8:1::"]) {
    assert.deepEqual(decide(strict, address), { allowed: false, reason: "this-computer" }, address);
  }
  for (const address of ["198.19.255.255", "198.18.1.255"]) {
    assert.deepEqual(decide(strict, address), { allowed: false, reason: "not-unicast" }, address);
  }
  assert.deepEqual(
    decide(strict, "198.19.17.2"),
    { allowed: true },
    "a container's address is not this computer",
  );
  assert.deepEqual(decide(strict, "2001:db8:17::2"), { allowed: true });

  const open = new EgressPolicy({ prefixes, allowLocal: true, ownAddresses: () => linux });
  assert.deepEqual(decide(open, "198.19.17.1"), { allowed: true });
  assert.deepEqual(decide(open, "2001:db8:17::"), { allowed: true });
  assert.deepEqual(decide(open, "198.19.255.255"), { allowed: false, reason: "not-unicast" });
});

const notLinux = process.platform === "linux" ? undefined : "reads /proc: Linux only";
test(
  "on this machine, /proc gives this computer's loopback address and broadcast, at once and in the background",
  { skip: notLinux },
  async () => {
    const own = readLinuxOwnAddresses();
    assert.ok(own.local.includes("127.0.0.1"));
    assert.ok(own.broadcast.includes("127.255.255.255"));
    const reader = systemOwnAddresses("linux");
    assert.ok(reader().broadcast.includes("127.255.255.255"), "read at the start, before any refresh");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    reader(); // starts a refresh on the thread pool
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(reader().broadcast.includes("127.255.255.255"), "and still after one");
  },
);
