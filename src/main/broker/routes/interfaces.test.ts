// Connected subnets and own addresses from recorded os.networkInterfaces() values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { interfaceRoutes } from "./interfaces.js";
import { fixtureInterfaces, route } from "./test-helpers.js";

describe("interfaceRoutes", () => {
  it("gives each address's subnet as connected and the address itself as local", () => {
    assert.deepEqual(interfaceRoutes(fixtureInterfaces("linux/interfaces.json")), [
      route("127.0.0.0/8", "lo", null, "connected"),
      route("127.0.0.1/32", "lo", null, "local"),
      route("::1/128", "lo", null, "local"),
      route("192.168.20.0/24", "enp3s0", null, "connected"),
      route("192.168.20.15/32", "enp3s0", null, "local"),
      route("2001:db8:20::/64", "enp3s0", null, "connected"),
      route("2001:db8:20::15/128", "enp3s0", null, "local"),
      // A second address in the same subnet adds no second connected entry.
      route("2001:db8:20:0:a00:27ff:fe4e:66a1/128", "enp3s0", null, "local"),
      route("fe80::/64", "enp3s0", null, "connected"),
      route("fe80::a00:27ff:fe4e:66a1/128", "enp3s0", null, "local"),
      route("10.100.0.0/24", "wg0", null, "connected"),
      route("10.100.0.2/32", "wg0", null, "local"),
      route("fd42:100::/64", "wg0", null, "connected"),
      route("fd42:100::2/128", "wg0", null, "local"),
      route("172.17.0.0/16", "docker0", null, "connected"),
      route("172.17.0.1/32", "docker0", null, "local"),
      route("fe80::/64", "docker0", null, "connected"),
      route("fe80::42:2cff:fe6b:1e3d/128", "docker0", null, "local"),
      route("fe80::/64", "veth3f2a1b9", null, "connected"),
      route("fe80::6c1d:8aff:fe42:b7e0/128", "veth3f2a1b9", null, "local"),
    ]);
  });

  it("handles point-to-point addresses, zones and masks Node could not express", () => {
    const base = { mac: "00:00:00:00:00:00", internal: false } as const;
    const entries = interfaceRoutes({
      utun4: [
        {
          ...base,
          address: "10.212.134.17",
          netmask: "255.255.255.255",
          family: "IPv4",
          cidr: "10.212.134.17/32",
        },
        {
          ...base,
          address: "fe80::6d2f:5c1e:8a3b:9f40%utun4",
          netmask: "ffff:ffff:ffff:ffff::",
          family: "IPv6",
          cidr: "fe80::6d2f:5c1e:8a3b:9f40%utun4/64",
          scopeid: 20,
        },
      ],
      odd0: [{ ...base, address: "192.0.2.9", netmask: "255.0.255.0", family: "IPv4", cidr: null }],
      gone0: undefined,
    });
    assert.deepEqual(entries, [
      route("10.212.134.17/32", "utun4", null, "local"),
      route("fe80::/64", "utun4", null, "connected"),
      route("fe80::6d2f:5c1e:8a3b:9f40/128", "utun4", null, "local"),
    ]);
  });
});
