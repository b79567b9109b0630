import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chooseResolvers } from "./choose-resolvers.js";
import { osDnsDomains } from "./os-dns-config.js";
import { addresses, assertChosen, fixture } from "./test-fixtures.js";
import { parseDnsClientServerAddress, parseIpconfigAll } from "./windows-adapters.js";
import { splitWindowsDnsOutput, windowsDnsConfig, WINDOWS_DNS_COMMAND } from "./windows-dns.js";
import { parseNrptPolicy } from "./windows-nrpt.js";

const daServers = ["2001:db8:1::2", "2001:db8:2::20", "2001:db8:6::6"];

describe("Windows DNS: NRPT, adapters, search list", () => {
  // One computer built from separate real samples (no recorded sample shows all four commands
  // on one machine): DirectAccess's effective NRPT, an AnyConnect VPN adapter beside the home
  // LAN (ipconfig /all), and a global suffix search list.
  const config = windowsDnsConfig({
    nrpt: fixture("windows-get-dnsclientnrptpolicy-effective-directaccess-1.txt"),
    ipconfig: fixture("windows-ipconfig-all-anyconnect-1.txt"),
    global: fixture("windows-get-dnsclientglobalsetting-1.txt"),
  });

  test("an NRPT namespace sends its names to the rule's servers; an exemption to the adapters", () => {
    assertChosen(config, "_ldap._tcp.dc.corp.contoso.com", {
      servers: daServers,
      domain: "corp.contoso.com",
    });
    assert.deepEqual(chooseResolvers(config, "app.corp.contoso.com").sources, ["NRPT .corp.contoso.com"]);
    assertChosen(config, "nls.corp.contoso.com", {
      servers: ["203.0.113.5", "203.0.113.205", "192.168.86.1"],
      domain: null,
    });
  });

  test("an adapter's connection suffix: its names to its servers; other names to every adapter in order", () => {
    assertChosen(config, "mail.corp.example", {
      servers: ["203.0.113.5", "203.0.113.205"],
      domain: "corp.example",
    });
    assert.deepEqual(chooseResolvers(config, "mail.corp.example").sources, ["adapter suffix (Ethernet 2)"]);
    assertChosen(config, "nas.lan", {
      servers: ["192.168.86.1"],
      domain: "lan",
    });
    assertChosen(config, "example.org", {
      servers: ["203.0.113.5", "203.0.113.205", "192.168.86.1"],
      domain: null,
    });
    // Disconnected adapters (Wi-Fi, Bluetooth, Cellular) have no servers to add.
    assert.equal(config.resolvers.filter((resolver) => resolver.interface === "Wi-Fi").length, 0);
  });

  test("the search list and this computer's domains", () => {
    assert.deepEqual(config.searchDomains, ["scx.example", "redmond.corp.example", "ntdev.corp.example"]);
    assert.deepEqual(osDnsDomains(config), [
      "scx.example",
      "redmond.corp.example",
      "ntdev.corp.example",
      "nls.corp.contoso.com",
      "corp.contoso.com",
      "corp.example",
      "lan",
    ]);
    const noGlobal = windowsDnsConfig({
      ipconfig: fixture("windows-ipconfig-all-tailscale-1.txt"),
      global: fixture("windows-get-dnsclientglobalsetting-empty-1.txt"),
    });
    assert.deepEqual(
      noGlobal.searchDomains,
      ["tailff123.ts.net", "internal.corp.example"],
      "ipconfig's list",
    );
  });

  test("NRPT before adapters: a rule over a VPN adapter's suffix wins for names under it", () => {
    // Built from two real samples: the manually added NRPT rule, its namespace set to the
    // AnyConnect adapter's suffix (no recorded sample has a rule over an adapter's suffix).
    const rule = fixture("windows-get-dnsclientnrptrule-manual-1.txt").replace(
      "{test.test}",
      "{.corp.example}",
    );
    const ruled = windowsDnsConfig({
      nrpt: rule,
      ipconfig: fixture("windows-ipconfig-all-anyconnect-1.txt"),
    });
    assertChosen(ruled, "mail.corp.example", {
      servers: ["10.0.0.1"],
      domain: "corp.example",
    });
    assert.deepEqual(chooseResolvers(ruled, "mail.corp.example").sources, ["NRPT .corp.example"]);
    assertChosen(ruled, "nas.lan", { servers: ["192.168.86.1"], domain: "lan" });
  });

  test("NRPT: the policy's wrapped server list, and a rule with NameServers", () => {
    const policy = parseNrptPolicy(fixture("windows-get-dnsclientnrptpolicy-directaccess-1.txt"));
    assert.deepEqual(
      policy.map((rule) => [rule.domains, addresses(rule.servers)]),
      [
        [["nls.corp.contoso.com"], []],
        [["corp.contoso.com"], daServers],
      ],
    );
    // Get-DnsClientNrptRule lists the same fields, its namespace in braces.
    const manual = parseNrptPolicy(fixture("windows-get-dnsclientnrptrule-manual-1.txt"));
    assert.deepEqual(
      manual.map((rule) => [rule.domains, addresses(rule.servers)]),
      [[["test.test"], ["10.0.0.1"]]],
    );
  });

  test("Get-DnsClientServerAddress: adapters in order, placeholders and loopback left out", () => {
    const firezone = parseDnsClientServerAddress(
      fixture("windows-get-dnsclientserveraddress-firezone-1.txt"),
    );
    assert.deepEqual(
      [...firezone].map(([alias, servers]) => [alias, addresses(servers)]),
      [
        ["Firezone", ["100.100.111.4", "100.100.111.1", "100.100.111.3", "100.100.111.2"]],
        ["Ethernet", ["10.255.252.2"]],
      ],
    );
    const vpn = windowsDnsConfig({ servers: fixture("windows-get-dnsclientserveraddress-msftvpn-1.txt") });
    // MSFTVPN-Manual's "{::}" and the fec0:0:0:ffff::N placeholders are no servers.
    assertChosen(vpn, "example.org", {
      servers: ["8.8.8.8", "8.8.4.4"],
      domain: null,
    });
  });

  test("ipconfig /all: suffixes, servers over two lines, media state", () => {
    const parsed = parseIpconfigAll(fixture("windows-ipconfig-all-wireguard-ztna-1.txt"));
    assert.deepEqual(
      parsed.adapters.map((adapter) => [adapter.name, adapter.suffix, addresses(adapter.servers)]),
      [
        ["jimber", "", ["198.18.0.2"]],
        ["Ethernet0", "localdomain", ["198.18.0.2"]],
      ],
    );
    assert.equal(parsed.primarySuffix, "isolationcorp.local");
    assert.deepEqual(parsed.searchList, ["isolationcorp.local", "localdomain"]);
    const tailscale = parseIpconfigAll(fixture("windows-ipconfig-all-tailscale-1.txt"));
    assert.deepEqual(
      tailscale.adapters.map((adapter) => [adapter.name, addresses(adapter.servers), adapter.disconnected]),
      [
        ["Tailscale", [], false],
        ["Ethernet 2", ["10.50.13.1"], false],
        ["Bluetooth Network Connection", [], true],
      ],
    );
  });

  test("the one PowerShell run's output, split at its markers, reads the same", () => {
    const script = WINDOWS_DNS_COMMAND.args[WINDOWS_DNS_COMMAND.args.length - 1] ?? "";
    const marks = [...script.matchAll(/'(### backhaul \w+)'/g)].map((match) => match[1]);
    assert.deepEqual(marks, [
      "### backhaul nrpt",
      "### backhaul servers",
      "### backhaul global",
      "### backhaul ipconfig",
    ]);
    const output = [
      "### backhaul nrpt",
      fixture("windows-get-dnsclientnrptpolicy-effective-directaccess-1.txt"),
      "### backhaul servers",
      "### backhaul global",
      fixture("windows-get-dnsclientglobalsetting-1.txt"),
      "### backhaul ipconfig",
      fixture("windows-ipconfig-all-anyconnect-1.txt"),
    ].join("\r\n");
    assert.deepEqual(windowsDnsConfig(splitWindowsDnsOutput(output)), config);
  });
});
