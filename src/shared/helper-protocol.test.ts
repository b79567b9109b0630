import assert from "node:assert/strict";
import { test } from "node:test";
import { HelperProtocolError, parseCommand, parseHello, type HelperExitOptions } from "./helper-protocol.js";

const OPTIONS: HelperExitOptions = {
  mtu: 1500,
  subnetV4: "198.18.0.0/30",
  subnetV6: null,
  routes: ["198.19.0.0/16"],
  allowLocal: false,
  dns: "split",
  dnsDomains: ["corp.test", "lab.test."],
  keepaliveIntervalMs: 5_000,
  pingTimeoutMs: 10_000,
};

const hello = (options: unknown): string => JSON.stringify({ type: "link", token: "t", options });

test("a link's options carry split DNS and its domains; older options without domains still parse", () => {
  assert.deepEqual(parseHello(hello(OPTIONS)), { type: "link", token: "t", options: OPTIONS });
  const { dnsDomains: _domains, ...older } = { ...OPTIONS, dns: "all" as const };
  assert.deepEqual(parseHello(hello(older)), { type: "link", token: "t", options: older });
});

test("an unknown DNS mode or a domain that is not a name is refused, naming the option", () => {
  assert.throws(() => parseHello(hello({ ...OPTIONS, dns: "some" })), HelperProtocolError);
  for (const dnsDomains of [["bad domain"], "corp.test", [""], ["."]])
    assert.throws(() => parseHello(hello({ ...OPTIONS, dnsDomains })), /options\.dnsDomains/);
});

test("a diagnose command carries a checked host, port and address; anything else is refused", () => {
  const line = (value: Record<string, unknown>): string =>
    JSON.stringify({ type: "diagnose", id: 3, host: "vault.corp.test", port: 5432, address: null, ...value });
  assert.deepEqual(parseCommand(line({})), {
    type: "diagnose",
    id: 3,
    host: "vault.corp.test",
    port: 5432,
    address: null,
  });
  assert.equal(
    (parseCommand(line({ address: "198.19.1.10" })) as { address: string }).address,
    "198.19.1.10",
  );
  for (const bad of [
    { host: "-oProxyCommand=sh" },
    { host: "a b" },
    { port: 0 },
    { port: "80" },
    { id: -1 },
    { id: 1.5 },
    { address: "198.19.1" },
  ])
    assert.throws(() => parseCommand(line(bad)), HelperProtocolError, JSON.stringify(bad));
});

test("a dnsDomains command carries domain names; anything else is refused, naming the field", () => {
  const line = (domains: unknown): string => JSON.stringify({ type: "dnsDomains", domains });
  assert.deepEqual(parseCommand(line(["corp.test", "vpn.test."])), {
    type: "dnsDomains",
    domains: ["corp.test", "vpn.test."],
  });
  assert.deepEqual(parseCommand(line([])), { type: "dnsDomains", domains: [] });
  for (const bad of [["bad domain"], "corp.test", [""], [1], null, Array(1_001).fill("a.test")])
    assert.throws(() => parseCommand(line(bad)), /dnsDomains\.domains/, JSON.stringify(bad).slice(0, 40));
});

test("an allowLocal command carries an id and a boolean, nothing else", () => {
  const line = (allow: unknown, id: unknown = 7): string => JSON.stringify({ type: "allowLocal", id, allow });
  assert.deepEqual(parseCommand(line(true)), { type: "allowLocal", id: 7, allow: true });
  assert.deepEqual(parseCommand(line(false)), { type: "allowLocal", id: 7, allow: false });
  for (const bad of ["true", 1, null, undefined])
    assert.throws(() => parseCommand(line(bad)), /allowLocal\.allow/, String(bad));
  for (const bad of [-1, 1.5, "7", null, {}])
    assert.throws(() => parseCommand(line(false, bad)), /allowLocal\.id/, String(bad));
});

test("a dnsMode command carries all, split or off and split's domains; anything else is refused, naming the field", () => {
  const line = (mode: unknown, domains: unknown): string =>
    JSON.stringify({ type: "dnsMode", mode, domains });
  for (const mode of ["all", "split", "off"] as const)
    assert.deepEqual(parseCommand(line(mode, ["corp.test"])), {
      type: "dnsMode",
      mode,
      domains: ["corp.test"],
    });
  for (const mode of ["ALL", "", null, 1, undefined])
    assert.throws(() => parseCommand(line(mode, [])), /dnsMode\.mode/, String(mode));
  for (const bad of [["bad domain"], "corp.test", undefined, [1], Array(1_001).fill("a.test")])
    assert.throws(
      () => parseCommand(line("split", bad)),
      /dnsMode\.domains/,
      JSON.stringify(bad)?.slice(0, 40),
    );
});
