import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chooseResolvers } from "./choose-resolvers.js";
import { parseScutilDns } from "./macos-scutil.js";
import { osDnsDomains } from "./os-dns-config.js";
import { assertChosen, chosen, fixture } from "./test-fixtures.js";

describe("scutil --dns (macOS)", () => {
  test("a split-DNS VPN: names under its domains go to its resolvers, the rest to the primary", () => {
    const config = parseScutilDns(fixture("macos-scutil-dns-split-supplemental-1.txt"));
    const vpn = { servers: ["10.0.0.1", "10.0.0.2"], domain: "corp.example" };
    // The choice depends on the name only, so SRV, TXT and MX questions all go the same way.
    assertChosen(config, "_ldap._tcp.corp.example.", vpn);
    assertChosen(config, "CORP.example", vpn);
    assertChosen(config, "mail.corp2.example", {
      servers: ["10.0.0.1", "10.0.0.2"],
      domain: "corp2.example",
    });
    const primary = { servers: ["192.168.86.1"], domain: null };
    assertChosen(config, "example.org.", primary);
    assertChosen(config, "notcorp.example", primary, "a label boundary");
    assert.deepEqual(chooseResolvers(config, "x.corp.example").sources, ["scutil resolver #2 (utun4)"]);
    assert.deepEqual(config.searchDomains, ["corp.example", "corp2.example", "lan"]);
    assert.deepEqual(osDnsDomains(config), ["corp.example", "corp2.example", "lan"]);
    assert.ok(
      config.resolvers.every((resolver) => !resolver.domains.includes("local")),
      "mDNS resolvers have nothing to forward to",
    );
  });

  test("Tailscale: the tailnet's supplemental resolver, and the default resolvers in order", () => {
    const config = parseScutilDns(fixture("macos-scutil-dns-tailscale-1.txt"));
    // "domain : example-tailnet.ts.net." — with the trailing dot as scutil prints it.
    assertChosen(config, "box.example-tailnet.ts.net", {
      servers: ["100.100.100.100"],
      domain: "example-tailnet.ts.net",
    });
    assertChosen(config, "github.com", {
      servers: ["100.100.100.100", "1.1.1.1", "8.8.8.8"],
      domain: null,
    });
    assert.deepEqual(osDnsDomains(config), ["example-tailnet.ts.net"]);
  });

  test("a full-tunnel VPN: every name to its server; a scoped resolver's search domain routes nothing", () => {
    const config = parseScutilDns(fixture("macos-scutil-dns-fulltunnel-vpn-1.txt"));
    for (const name of ["github.com", "router.isp-router.example"]) {
      assertChosen(config, name, { servers: ["10.2.0.1"], domain: null }, name);
    }
    const scoped = config.resolvers.filter((resolver) => resolver.scoped);
    assert.deepEqual(
      scoped.map((resolver) => resolver.interface),
      ["en0", "utun3"],
    );
    assert.deepEqual(osDnsDomains(config), ["isp-router.example"]);
  });

  test("no VPN: the router's resolvers, IPv6 first as listed", () => {
    const config = parseScutilDns(fixture("macos-scutil-dns-plain-1.txt"));
    assertChosen(config, "printer.local", {
      servers: ["2001:db8:1006:e906::c0a8:1d01", "192.168.29.1"],
      domain: null,
    });
    assert.deepEqual(osDnsDomains(config), []);
  });

  test("servers only in a scoped resolver (Tunnelblick): used rather than none, bare reachability lines ignored", () => {
    const config = parseScutilDns(fixture("macos-scutil-dns-openvpn-tunnelblick-1.txt"));
    assertChosen(config, "example.org", {
      servers: ["8.8.8.8", "8.8.4.4"],
      domain: null,
    });
    assert.deepEqual(osDnsDomains(config), ["openvpn"]);
  });

  test("old releases without the header line and flags: two PPP links of equal order keep scutil's order", () => {
    const first = parseScutilDns(fixture("macos-scutil-dns-ppp-vpn-1.txt"));
    assert.deepEqual(chosen(chooseResolvers(first, "intranet.example")).servers, [
      "192.168.80.10",
      "192.168.80.24",
    ]);
    const second = parseScutilDns(fixture("macos-scutil-dns-ppp-vpn-2.txt"));
    assert.deepEqual(chosen(chooseResolvers(second, "intranet.example")).servers, [
      "198.51.100.126",
      "198.51.100.125",
      "192.168.80.10",
      "192.168.80.24",
    ]);
  });

  test("a resolver's port (an /etc/resolver file with `port`)", () => {
    // Built from the real split-DNS sample: no recorded sample has a port line, so resolver #2
    // gets the `port : 5353` line scutil prints for an /etc/resolver file that sets one.
    const text = fixture("macos-scutil-dns-split-supplemental-1.txt").replace(
      "  order    : 101600\n",
      "  order    : 101600\n  port     : 5353\n",
    );
    const config = parseScutilDns(text);
    assert.deepEqual(chosen(chooseResolvers(config, "a.corp.example")).servers, [
      "10.0.0.1#5353",
      "10.0.0.2#5353",
    ]);
    assert.deepEqual(chosen(chooseResolvers(config, "a.corp2.example")).servers, ["10.0.0.1", "10.0.0.2"]);
  });

  test("text that is not scutil's gives no resolvers, never a throw", () => {
    for (const text of ["", "garbage\n\u0000\n", "resolver #1\n  nameserver[0] : not-an-address\n"]) {
      const config = parseScutilDns(text);
      assert.deepEqual(chooseResolvers(config, "a.test").servers, []);
    }
  });
});
