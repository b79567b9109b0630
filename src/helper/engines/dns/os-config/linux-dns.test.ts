import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chooseResolvers } from "./choose-resolvers.js";
import { parseNmcliDeviceShow } from "./linux-nmcli.js";
import { parseResolvectlStatus } from "./linux-resolvectl.js";
import { osDnsDomains } from "./os-dns-config.js";
import { assertChosen, chosen, fixture } from "./test-fixtures.js";

const tailscale = ["100.100.100.100", "fd7a:115c:a1e0::53"];
const campus = ["10.6.0.2", "10.6.0.3"];

describe("resolvectl status (systemd-resolved)", () => {
  test("per-link domains: the tailnet's names and reverse zones to tailscale0, the rest to the DefaultRoute link", () => {
    const config = parseResolvectlStatus(fixture("linux-resolvectl-status-tailscale-1.txt"));
    for (const name of ["_http._tcp.box.tail0a1b2c.ts.net", "other.ts.net", "4.3.100.100.in-addr.arpa"]) {
      assert.deepEqual(
        chooseResolvers(config, name).servers.map((s) => s.address),
        tailscale,
        name,
      );
    }
    // A domain from the continuation lines' middle, and the last one on the last line.
    assert.equal(chooseResolvers(config, "1.2.77.100.in-addr.arpa").domain, "77.100.in-addr.arpa");
    assert.deepEqual(chooseResolvers(config, "x.ts.net").sources, ["resolved link tailscale0 (tailscale0)"]);
    assertChosen(config, "github.com", { servers: campus, domain: null });
    assertChosen(config, "www.campus.example", {
      servers: campus,
      domain: "campus.example",
    });
    assert.deepEqual(config.searchDomains, ["campus.example", "tail0a1b2c.ts.net"]);
    const domains = osDnsDomains(config);
    assert.equal(domains.length, 2 + 1 + 64 + 1, "search domains, ip6.arpa zone, 64 in-addr zones, ts.net");
    assert.ok(domains.includes("ts.net") && domains.includes("99.100.in-addr.arpa"));
  });

  test("global servers and DefaultRoute links share names no domain matches; fallback servers stay unused", () => {
    const config = parseResolvectlStatus(fixture("linux-resolvectl-status-tailscale-2.txt"));
    assertChosen(config, "example.org", {
      servers: ["1.1.1.1", "1.0.0.1", "127.0.0.1", "8.8.8.8", "8.8.4.4"],
      domain: null,
    });
    assertChosen(config, "a.tail3d4e5f.ts.net", {
      servers: ["100.100.100.100"],
      domain: "tail3d4e5f.ts.net",
    });
    assert.ok(!config.resolvers.some((resolver) => resolver.servers.some((s) => s.address === "9.9.9.9")));
  });

  test("a VPN link with routing domains and no DefaultRoute beside the LAN", () => {
    // Built from two real samples: the Check Point link block (`resolvectl status snx-xfrm`)
    // appended to a whole `resolvectl status`, as one computer with both would print them.
    const text = `${fixture("linux-resolvectl-status-tailscale-1.txt")}\n${fixture("linux-resolvectl-link-checkpoint-snx-1.txt")}`;
    const config = parseResolvectlStatus(text);
    assertChosen(config, "_kerberos._tcp.dev.local", {
      servers: ["172.16.230.53", "172.16.230.54"],
      domain: "dev.local",
    });
    assert.deepEqual(chosen(chooseResolvers(config, "db.prod.local")).domain, "prod.local");
    assertChosen(config, "github.com", { servers: campus, domain: null });
    // The link alone: its names resolve, and nothing else has a server.
    const alone = parseResolvectlStatus(fixture("linux-resolvectl-link-checkpoint-snx-1.txt"));
    assert.deepEqual(chooseResolvers(alone, "github.com").servers, []);
  });

  test("a full tunnel's `~.` beats DefaultRoute links; longer domains still beat `~.`", () => {
    for (const link of [
      "linux-resolvectl-link-tun0-fulltunnel-1.txt",
      "linux-resolvectl-link-tun0-fulltunnel-2.txt",
    ]) {
      const server = link.endsWith("-1.txt") ? "10.20.20.1" : "10.39.20.1";
      // Built from two real samples, as in the test above.
      const config = parseResolvectlStatus(
        `${fixture("linux-resolvectl-status-tailscale-1.txt")}\n${fixture(link)}`,
      );
      assertChosen(config, "github.com", { servers: [server], domain: "." }, link);
      assert.deepEqual(
        chooseResolvers(config, "www.campus.example").servers.map((s) => s.address),
        campus,
      );
      assert.deepEqual(
        chooseResolvers(config, "a.tail0a1b2c.ts.net").servers.map((s) => s.address),
        tailscale,
      );
      assert.deepEqual(osDnsDomains(config).includes("."), false, "a catch-all is not a domain");
    }
  });

  test("DNS over TLS: asked through resolved's stub, which speaks it", () => {
    const config = parseResolvectlStatus(fixture("linux-resolvectl-status-vpn-tun0-1.txt"));
    assertChosen(config, "host.corp.example", {
      servers: ["127.0.0.53"],
      domain: "corp.example",
    });
    assert.deepEqual(
      chooseResolvers(config, "example.org").servers.map((s) => s.address),
      ["127.0.0.53"],
    );
    assert.deepEqual(config.searchDomains, ["corp.example"]);
  });

  test("systemd-resolve --status (older format): a link with a search domain and no DefaultRoute line", () => {
    const config = parseResolvectlStatus(fixture("linux-systemd-resolve-status-link-openvpn-1.txt"));
    assertChosen(config, "srv.some.other.domain.tld", {
      servers: ["10.10.1.63"],
      domain: "some.other.domain.tld",
    });
    assertChosen(config, "example.org", {
      servers: ["10.10.1.63"],
      domain: null,
    });
  });

  test("text that is not resolvectl's gives no resolvers, never a throw", () => {
    for (const text of ["", "Link x\n  : :\n", "Global\n  DNS Servers: nonsense 999.1.1.1\n"]) {
      assert.deepEqual(chooseResolvers(parseResolvectlStatus(text), "a.test").servers, []);
    }
  });
});

describe("nmcli device show (NetworkManager)", () => {
  test("connected devices with servers; a VPN device without DNS and an unavailable one add none", () => {
    const config = parseNmcliDeviceShow(fixture("linux-nmcli-dev-show-openvpn-tun0-1.txt"));
    assert.deepEqual(
      config.resolvers.map((resolver) => resolver.interface),
      ["wlp5s0"],
    );
    assertChosen(config, "example.org", {
      servers: ["192.168.1.1"],
      domain: null,
    });
    assert.deepEqual(osDnsDomains(config), []);
  });
});
