import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  isRouteGone,
  parseNetstatDefaultGateways,
  parseScutilResolvers,
  resolverFile,
  routeCommand,
  utunAddressCommand,
} from "./darwin.js";

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const line = (command: { file: string; args: string[] }): string => [command.file, ...command.args].join(" ");

test("utun addresses and routes are ifconfig and route(8) command lines; bad input runs nothing", () => {
  assert.equal(
    line(utunAddressCommand("utun7", "198.18.0.1/30", "198.18.0.2", 65520)),
    "ifconfig utun7 inet 198.18.0.1 198.18.0.2 netmask 255.255.255.252 mtu 65520 up",
  );
  assert.equal(
    line(utunAddressCommand("utun7", "2001:db8:1::1/64", "2001:db8:1::2", 65520)),
    "ifconfig utun7 inet6 2001:db8:1::1 prefixlen 64 alias",
  );
  assert.equal(
    line(routeCommand("add", "198.18.70.0/24", "utun7")),
    "route -n add -inet 198.18.70.0/24 -interface utun7",
  );
  assert.equal(
    line(routeCommand("delete", "2001:db8:70::/64", "utun7")),
    "route -n delete -inet6 2001:db8:70::/64 -interface utun7",
  );
  assert.throws(() => routeCommand("add", "198.18.70.0/24", "en0; rm -rf /"), TypeError);
  assert.throws(() => routeCommand("add", "-net", "utun7"), TypeError);
  assert.equal(isRouteGone("route: writing to routing socket: not in table"), true);
});

test("a resolver file names the domain and the remote's resolver; odd domains are refused", () => {
  const { path, text } = resolverFile("p.test", ["198.18.0.2", "2001:db8:1::2"], "/etc/resolver");
  assert.equal(path, "/etc/resolver/p.test");
  assert.match(text, /^domain p\.test\nnameserver 198\.18\.0\.2\nnameserver 2001:db8:1::2\n$/m);
  for (const bad of ["../etc", "a/b", ".hidden", "a..b"])
    assert.throws(() => resolverFile(bad, ["198.18.0.2"]), TypeError);
});

test("netstat -rn with a full-tunnel VPN (recorded): both default gateways, link-scoped ones skipped", () => {
  assert.deepEqual(parseNetstatDefaultGateways(fixture("macos-netstat-rn-vpn-utun-1.txt")), [
    "10.175.9.195",
    "192.168.1.1",
  ]);
});

test("scutil --dns (recorded): per-domain resolvers, as a /etc/resolver file shows up, with their servers", () => {
  const resolvers = parseScutilResolvers(fixture("macos-scutil-dns-split-supplemental-1.txt"));
  const corp = resolvers.find((resolver) => resolver.domain === "corp.example");
  assert.deepEqual(corp?.nameservers, ["10.0.0.1", "10.0.0.2"]);
  assert.match(corp?.flags ?? "", /Supplemental/);
  assert.deepEqual(
    resolvers.map((resolver) => resolver.domain),
    [null, "corp.example", "corp2.example", "local"],
    "only the first section: scoped resolvers are not the system's per-domain ones",
  );
});
