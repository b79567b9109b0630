// macOS reader on recorded `netstat -rn` output: a laptop on Wi-Fi with a split-tunnel corporate
// VPN (macOS 14 columns), and one with a full-tunnel OpenVPN (older columns with Refs and Use).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { advertisableRoutes } from "./advertise.js";
import { parseNetstatRoutes, readDarwinRoutes } from "./darwin.js";
import { fixture, recordedRoutes, route } from "./test-helpers.js";

const splitTunnelV4 = [
  route("0.0.0.0/0", "en0", "192.168.1.1"),
  route("0.0.0.0/0", "utun4"),
  route("10.0.0.0/8", "utun4"),
  route("10.212.134.17/32", "utun4"),
  route("127.0.0.0/8", "lo0"),
  route("127.0.0.1/32", "lo0"),
  route("169.254.0.0/16", "en0"),
  route("172.16.0.0/12", "utun4"),
  route("192.168.1.0/24", "en0"),
  route("192.168.1.1/32", "en0"),
  route("192.168.1.23/32", "en0"),
  route("192.168.64.0/24", "bridge100"),
  route("224.0.0.0/4", "en0"),
  route("224.0.0.0/4", "utun4"),
  route("255.255.255.255/32", "en0"),
  route("255.255.255.255/32", "utun4"),
];

const splitTunnelV6 = [
  route("::/0", "en0", "fe80::a62b:b0ff:fee1:4c7a"),
  route("::/0", "utun0", "fe80::"),
  route("::/0", "utun1", "fe80::"),
  route("::/0", "utun4", "fe80::"),
  route("::1/128", "lo0"),
  route("2001:db8:4a1c:100::/64", "en0"),
  route("2001:db8:4a1c:100::1a2b/128", "lo0"),
  route("2001:db8:4a1c:100:85d:1f3c:9e07:62ab/128", "lo0"),
  route("fd10:212::/48", "utun4"),
  route("fd10:212:0:1::17/128", "lo0"),
  route("fe80::/64", "lo0"),
  route("fe80::1/128", "lo0"),
  route("fe80::/64", "en0"),
  route("fe80::1c8e:94ff:fe3a:2b10/128", "lo0"),
  route("fe80::/64", "utun0"),
  route("fe80::6d2f:5c1e:8a3b:9f40/128", "lo0"),
  route("fe80::/64", "utun1"),
  route("fe80::b3a:4c2d:e81f:7a05/128", "lo0"),
  route("ff00::/8", "lo0"),
  route("ff00::/8", "en0"),
  route("ff00::/8", "utun0"),
  route("ff01::/32", "lo0"),
  route("ff01::/32", "en0"),
  route("ff02::/32", "lo0"),
  route("ff02::/32", "en0"),
  route("ff02::/32", "utun0"),
];

const fullTunnelV4 = [
  route("0.0.0.0/1", "utun2", "10.8.0.5"),
  route("0.0.0.0/0", "en0", "192.168.0.1"),
  route("10.8.0.1/32", "utun2", "10.8.0.5"),
  route("10.8.0.5/32", "utun2"),
  route("127.0.0.0/8", "lo0"),
  route("127.0.0.1/32", "lo0"),
  route("128.0.0.0/1", "utun2", "10.8.0.5"),
  route("169.254.0.0/16", "en0"),
  route("192.168.0.0/24", "en0"),
  route("192.168.0.1/32", "en0"),
  route("192.168.0.57/32", "en0"),
  route("198.51.100.7/32", "en0", "192.168.0.1"),
  route("224.0.0.0/4", "en0"),
  route("255.255.255.255/32", "en0"),
];

const fullTunnelV6 = [
  route("::/0", "en0", "fe80::5aef:68ff:fe9a:21c4"),
  route("::1/128", "lo0"),
  route("2000::/4", "utun2"),
  route("2001:db8:77::/64", "en0"),
  route("2001:db8:77::9c4/128", "lo0"),
  route("3000::/4", "utun2"),
  route("fc00::/7", "utun2"),
  route("fd00:8::/64", "utun2"),
  route("fd00:8::1000/128", "lo0"),
  route("fe80::/64", "lo0"),
  route("fe80::1/128", "lo0"),
  route("fe80::/64", "en0"),
  route("fe80::1078:5c3f:de21:a9b0/128", "lo0"),
  route("fe80::/64", "utun2"),
  route("fe80::e3a1:7c5:9b2e:41d/128", "lo0"),
  route("ff01::/32", "lo0"),
  route("ff01::/32", "en0"),
  route("ff01::/32", "utun2"),
  route("ff02::/32", "lo0"),
  route("ff02::/32", "en0"),
  route("ff02::/32", "utun2"),
];

describe("parseNetstatRoutes", () => {
  it("reads the split-tunnel laptop, skipping neighbour, host-cache and broadcast entries", () => {
    assert.deepEqual(parseNetstatRoutes(fixture("darwin/split-tunnel-netstat-inet.txt"), 4), splitTunnelV4);
    assert.deepEqual(parseNetstatRoutes(fixture("darwin/split-tunnel-netstat-inet6.txt"), 6), splitTunnelV6);
  });

  it("reads the full-tunnel laptop, whose older netstat adds Refs and Use columns", () => {
    assert.deepEqual(parseNetstatRoutes(fixture("darwin/full-tunnel-netstat-inet.txt"), 4), fullTunnelV4);
    assert.deepEqual(parseNetstatRoutes(fixture("darwin/full-tunnel-netstat-inet6.txt"), 6), fullTunnelV6);
  });

  it("picks its family's section out of a whole `netstat -rn`", () => {
    const whole = [
      fixture("darwin/full-tunnel-netstat-inet.txt"),
      fixture("darwin/full-tunnel-netstat-inet6.txt").replace("Routing tables\n", ""),
    ].join("");
    assert.deepEqual(parseNetstatRoutes(whole, 4), fullTunnelV4);
    assert.deepEqual(parseNetstatRoutes(whole, 6), fullTunnelV6);
  });

  it("expands BSD's short destinations", () => {
    const text = [
      "Destination        Gateway            Flags               Netif Expire",
      "10.8/16            10.8.0.1           UGSc                utun4",
      "172.16.111/24      link#11            UC                 vmnet1",
      "192.168.0/16       link#11            UC                    en1",
      "203.0.113.9        192.168.1.1        UGHS                  en0",
      "10.9/16            10.8.0.1           UGScR               utun4",
      "10.10/16           10.8.0.1           GSc                 utun4",
      "",
    ].join("\n");
    assert.deepEqual(parseNetstatRoutes(text, 4), [
      route("10.8.0.0/16", "utun4", "10.8.0.1"),
      route("172.16.111.0/24", "vmnet1"),
      route("192.168.0.0/16", "en1"),
      route("203.0.113.9/32", "en0", "192.168.1.1"),
    ]);
  });
});

describe("readDarwinRoutes", () => {
  it("runs netstat once per family by its full path", async () => {
    const calls: string[] = [];
    const entries = await readDarwinRoutes(async (file, args) => {
      calls.push([file, ...args].join(" "));
      return fixture(`darwin/split-tunnel-netstat-${args.at(-1) ?? ""}.txt`);
    }, {});
    assert.deepEqual(calls, ["/usr/sbin/netstat -rn -f inet", "/usr/sbin/netstat -rn -f inet6"]);
    assert.deepEqual(entries, [...splitTunnelV4, ...splitTunnelV6]);
  });
});

describe("advertisable routes of the macOS laptops", () => {
  it("split tunnel: the VPN's 10/8 and 172.16/12, the Wi-Fi LAN, a VM bridge, and IPv6", () => {
    const entries = recordedRoutes("darwin/split-tunnel-interfaces.json", splitTunnelV4, splitTunnelV6);
    assert.deepEqual(advertisableRoutes(entries), [
      route("10.0.0.0/8", "utun4"),
      route("172.16.0.0/12", "utun4"),
      route("192.168.1.0/24", "en0"),
      route("192.168.64.0/24", "bridge100"),
      route("2001:db8:4a1c:100::/64", "en0"),
      route("fd10:212::/48", "utun4"),
    ]);
  });

  it("full tunnel: the split defaults are kept and hold everything else", () => {
    const entries = recordedRoutes("darwin/full-tunnel-interfaces.json", fullTunnelV4, fullTunnelV6);
    assert.deepEqual(advertisableRoutes(entries), [
      route("0.0.0.0/1", "utun2", "10.8.0.5"),
      route("128.0.0.0/1", "utun2", "10.8.0.5"),
      route("2000::/4", "utun2"),
      route("3000::/4", "utun2"),
      route("fc00::/7", "utun2"),
    ]);
    assert.deepEqual(advertisableRoutes(entries, { splitDefaults: "drop" }), [
      route("10.8.0.1/32", "utun2", "10.8.0.5"),
      route("10.8.0.4/30", "utun2", null, "connected"),
      route("192.168.0.0/24", "en0"),
      route("198.51.100.7/32", "en0", "192.168.0.1"),
      route("2000::/4", "utun2"),
      route("3000::/4", "utun2"),
      route("fc00::/7", "utun2"),
    ]);
  });
});
