import assert from "node:assert/strict";
import { test } from "node:test";
import { parseResolvectlStatus } from "../../helper/engines/dns/os-config/linux-resolvectl.js";
import { parseScutilDns } from "../../helper/engines/dns/os-config/macos-scutil.js";
import { fixture } from "../../helper/engines/dns/os-config/test-fixtures.js";
import { localDnsDomains, sessionDns } from "./local-dns-domains.js";

const none = (): Promise<string[]> => Promise.resolve([]);

test("split: this computer's domains and the user's, once each, lower case", async () => {
  const dns = await sessionDns("split", ["Corp.Test.", "lab.test"], () =>
    Promise.resolve(["corp.test", "home.lan"]),
  );
  assert.deepEqual(dns.dnsDomains, ["corp.test", "home.lan", "lab.test"]);
  assert.equal(dns.dns, "split");
  assert.match(dns.note ?? "", /names under corp\.test, home\.lan, lab\.test and reverse lookups/);
});

test("split with no domain anywhere runs as all, and says why and what to do", async () => {
  const dns = await sessionDns("split", [], none);
  assert.equal(dns.dns, "all");
  assert.equal(dns.dnsDomains, undefined);
  assert.match(dns.note ?? "", /no search or VPN domain.*--dns-domain/);
});

test("all and off are passed as they are, without reading this computer's domains", async () => {
  const reads: string[] = [];
  const read = (): Promise<string[]> => (reads.push("read"), Promise.resolve(["corp.test"]));
  assert.deepEqual(await sessionDns("all", ["corp.test"], read), { dns: "all", note: null });
  assert.deepEqual(await sessionDns("off", [], read), { dns: "off", note: null });
  assert.deepEqual(reads, []);
});

test("this computer's domains: the search list and its VPNs' resolver domains, as the OS reports them", async () => {
  const mac = parseScutilDns(fixture("macos-scutil-dns-split-supplemental-1.txt"));
  assert.deepEqual(await localDnsDomains(async () => mac), ["corp.example", "corp2.example", "lan"]);
  // systemd-resolved with Tailscale: the tailnet, its routing domains and reverse zones.
  const linux = parseResolvectlStatus(fixture("linux-resolvectl-status-tailscale-1.txt"));
  const domains = await localDnsDomains(async () => linux);
  assert.deepEqual(domains.slice(0, 2), ["campus.example", "tail0a1b2c.ts.net"]);
  assert.ok(domains.includes("ts.net") && domains.includes("64.100.in-addr.arpa"));
});
