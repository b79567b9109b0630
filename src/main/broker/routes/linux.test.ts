// Linux reader on recorded iproute2 output: a desktop on a wired LAN with docker0, a libvirt
// bridge whose link is down, and a split-tunnel WireGuard interface (wg0), over IPv4 and IPv6.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { advertisableRoutes } from "./advertise.js";
import { RouteTableError } from "../../../helper/engines/routes/errors.js";
import { parseIpRouteJson, parseIpRouteText, readLinuxRoutes } from "./linux.js";
import { fixture, fixtureInterfaces, recordedRoutes, route } from "./test-helpers.js";
import type { CommandRunner } from "../../../helper/engines/routes/types.js";

const expectedV4 = [
  route("0.0.0.0/0", "enp3s0", "192.168.20.1"),
  route("10.0.0.0/8", "wg0"),
  route("10.100.0.0/24", "wg0"),
  route("169.254.0.0/16", "enp3s0"),
  route("172.17.0.0/16", "docker0"),
  route("192.168.20.0/24", "enp3s0"),
  route("192.168.100.0/22", "wg0"),
  // 192.168.122.0/24 on virbr0 is "linkdown": skipped.
  route("198.51.100.0/24", "enp3s0", "192.168.20.254"),
];

const expectedV6 = [
  route("::1/128", "lo"),
  route("2001:db8:20::/64", "enp3s0"),
  route("fd42::/16", "wg0"),
  route("fd42:100::/64", "wg0"),
  route("fe80::/64", "enp3s0"),
  route("fe80::/64", "docker0"),
  route("fe80::/64", "veth3f2a1b9"),
  route("::/0", "enp3s0", "fe80::1"),
];

/** A runner that answers from a table of "file args" → output or error, and records calls. */
function fakeRunner(answers: Record<string, string | RouteTableError>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  const run = async (file: string, args: readonly string[]): Promise<string> => {
    const command = [file, ...args].join(" ");
    calls.push(command);
    const answer = answers[command] ?? new RouteTableError("command-not-found", `${file} was not found`);
    if (answer instanceof RouteTableError) throw answer;
    return answer;
  };
  return Object.assign(run, { calls });
}

const failed = (detail: string): RouteTableError => new RouteTableError("command-failed", detail);

describe("parseIpRouteJson", () => {
  it("reads the recorded IPv4 and IPv6 tables", () => {
    assert.deepEqual(parseIpRouteJson(fixture("linux/ip-j-4-route.txt"), 4), expectedV4);
    assert.deepEqual(parseIpRouteJson(fixture("linux/ip-j-6-route.txt"), 6), expectedV6);
  });

  it("takes the first live next hop of a multipath route, and skips routes that forward nothing", () => {
    const json = JSON.stringify([
      {
        dst: "10.20.0.0/16",
        protocol: "static",
        flags: [],
        nexthops: [
          { gateway: "192.168.20.2", dev: "enp3s0", weight: 1, flags: ["dead", "linkdown"] },
          { gateway: "192.168.30.2", dev: "enp4s0", weight: 1, flags: [] },
        ],
      },
      { type: "unreachable", dst: "10.99.0.0/16", flags: [] },
      { type: "blackhole", dst: "10.98.0.0/16", flags: [] },
      { dst: "10.30.0.0/16", via: { family: "inet6", host: "fe80::1" }, dev: "enp3s0", flags: [] },
      { dst: "10.40.0.1", dev: "tun0", scope: "link", flags: [] },
      { dst: "not-an-address", dev: "enp3s0", flags: [] },
    ]);
    assert.deepEqual(parseIpRouteJson(json, 4), [
      route("10.20.0.0/16", "enp4s0", "192.168.30.2"),
      route("10.30.0.0/16", "enp3s0", "fe80::1"),
      route("10.40.0.1/32", "tun0"),
    ]);
  });

  it("rejects output that is not a JSON list", () => {
    assert.throws(() => parseIpRouteJson("{", 4), { name: "RouteTableError", code: "unparsable-output" });
    assert.throws(() => parseIpRouteJson('{"dst":"default"}', 4), /not a list of routes/);
    assert.deepEqual(parseIpRouteJson("", 4), []);
  });
});

describe("parseIpRouteText", () => {
  it("reads the same tables from the text form as from JSON", () => {
    assert.deepEqual(parseIpRouteText(fixture("linux/ip-4-route.txt"), 4), expectedV4);
    assert.deepEqual(parseIpRouteText(fixture("linux/ip-6-route.txt"), 6), expectedV6);
  });

  it("reads multipath continuation lines, route types and family words after via", () => {
    const text = [
      "default proto static metric 1024 ",
      "\tnexthop via 10.0.0.1 dev eth0 weight 1 dead ",
      "\tnexthop via 10.0.0.2 dev eth1 weight 1 ",
      "unreachable 10.99.0.0/16 ",
      "blackhole 10.98.0.0/16 proto static ",
      "10.30.0.0/16 via inet6 fe80::1 dev eth0 ",
      "10.40.0.1 dev tun0 scope link ",
      "",
    ].join("\n");
    assert.deepEqual(parseIpRouteText(text, 4), [
      route("0.0.0.0/0", "eth1", "10.0.0.2"),
      route("10.30.0.0/16", "eth0", "fe80::1"),
      route("10.40.0.1/32", "tun0"),
    ]);
  });
});

describe("readLinuxRoutes", () => {
  const interfaces = fixtureInterfaces("linux/interfaces.json");

  it("runs `ip -j` for each family", async () => {
    const run = fakeRunner({
      "ip -j -4 route show table main": fixture("linux/ip-j-4-route.txt"),
      "ip -j -6 route show table main": fixture("linux/ip-j-6-route.txt"),
    });
    assert.deepEqual(await readLinuxRoutes(run, interfaces), [...expectedV4, ...expectedV6]);
    assert.deepEqual(run.calls, ["ip -j -4 route show table main", "ip -j -6 route show table main"]);
  });

  it("falls back to the text form when -j is unknown, or ignored by an older iproute2", async () => {
    const run = fakeRunner({
      "ip -j -4 route show table main": failed('Option "-j" is unknown, try "ip -help".'),
      "ip -4 route show table main": fixture("linux/ip-4-route.txt"),
      "ip -j -6 route show table main": fixture("linux/ip-6-route.txt"),
    });
    assert.deepEqual(await readLinuxRoutes(run, interfaces), [...expectedV4, ...expectedV6]);
  });

  it("looks for ip in /usr/sbin when PATH lacks it", async () => {
    const run = fakeRunner({
      "/usr/sbin/ip -j -4 route show table main": fixture("linux/ip-j-4-route.txt"),
      "/usr/sbin/ip -j -6 route show table main": "[]\n",
    });
    assert.deepEqual(await readLinuxRoutes(run, interfaces), expectedV4);
  });

  it("says so when ip is missing, and treats a kernel without IPv6 as having no IPv6 routes", async () => {
    await assert.rejects(readLinuxRoutes(fakeRunner({}), interfaces), {
      name: "RouteTableError",
      code: "command-not-found",
      message: /install iproute2/,
    });
    const noIpv6 = failed("RTNETLINK answers: Address family not supported by protocol");
    const run = fakeRunner({
      "ip -j -4 route show table main": fixture("linux/ip-j-4-route.txt"),
      "ip -j -6 route show table main": noIpv6,
      "ip -6 route show table main": noIpv6,
    });
    assert.deepEqual(await readLinuxRoutes(run, interfaces), expectedV4);
  });
});

describe("advertisable routes of the Linux desktop", () => {
  it("are the LAN, docker0, the WireGuard networks and the lab network behind a LAN router", () => {
    const entries = recordedRoutes("linux/interfaces.json", expectedV4, expectedV6);
    assert.deepEqual(advertisableRoutes(entries), [
      route("10.0.0.0/8", "wg0"),
      route("172.17.0.0/16", "docker0"),
      route("192.168.20.0/24", "enp3s0"),
      route("192.168.100.0/22", "wg0"),
      route("198.51.100.0/24", "enp3s0", "192.168.20.254"),
      route("2001:db8:20::/64", "enp3s0"),
      route("fd42::/16", "wg0"),
    ]);
  });
});
