import assert from "node:assert/strict";
import { test } from "node:test";
import { agentProgress, AGENT_PROGRESS_KEYS } from "./helper-protocol.js";
import { describeRemoteDns, remoteDnsExtras, remoteDnsStatus, sameRemoteDns } from "./remote-dns-status.js";

const COUNTS = { viaLink: 12, viaRemote: 340, unanswered: 0, refused: 2, overloaded: 0 };
const SPLIT = 2; // agent.dnsMode's index of "split"

test("the agent's extras pass the helper's whitelist and read back as the status main keeps", () => {
  const extras = { "agent.dnsMode": SPLIT, ...remoteDnsExtras("resolv-conf-forwarder-native", COUNTS) };
  for (const key of Object.keys(extras)) assert.ok(AGENT_PROGRESS_KEYS.includes(key), key);
  assert.deepEqual(remoteDnsStatus(agentProgress(extras)), {
    mode: "split",
    setup: "resolv-conf-forwarder-native",
    ...COUNTS,
  });
});

test("counts only for split mode's forwarder: systemd-resolved, all, off and a stopped forwarder have none", () => {
  assert.deepEqual(
    remoteDnsStatus({ "agent.dnsMode": SPLIT, ...remoteDnsExtras("systemd-resolved", null) }),
    {
      mode: "split",
      setup: "systemd-resolved",
    },
  );
  // After split → all, the helper's merged map still holds the old forwarder's counts.
  const merged = {
    ...remoteDnsExtras("resolv-conf-forwarder-javascript", COUNTS),
    "agent.dnsMode": 1,
    ...remoteDnsExtras("resolv-conf", null),
  };
  assert.deepEqual(remoteDnsStatus(merged), { mode: "all", setup: "resolv-conf" });
  assert.deepEqual(remoteDnsStatus({ "agent.dnsMode": 0, ...remoteDnsExtras("none", null) }), {
    mode: "off",
    setup: "none",
  });
});

test("an older agent or a value out of range: the mode alone, setup null, counts left out; no mode, no status", () => {
  assert.deepEqual(remoteDnsStatus({ "agent.dnsMode": SPLIT }), { mode: "split", setup: null });
  assert.deepEqual(
    remoteDnsStatus({ "agent.dnsMode": SPLIT, "agent.dnsSetup": 99, "agent.split.viaLink": 1 }),
    {
      mode: "split",
      setup: null,
    },
  );
  assert.equal(remoteDnsStatus({ "agent.routes": 1 }), null);
  assert.equal(remoteDnsStatus({ "agent.dnsMode": 7 }), null);
  // A forwarder whose counts came only in part: none shown rather than some.
  const partial = { "agent.dnsMode": SPLIT, "agent.dnsSetup": 2, "agent.split.viaLink": 4 };
  assert.deepEqual(remoteDnsStatus(partial), { mode: "split", setup: "resolv-conf-forwarder-native" });
});

test("the remote's values are kept only as non-negative safe integers, and only under known names", () => {
  const progress = agentProgress({
    "agent.dnsMode": SPLIT,
    "agent.split.viaLink": -1,
    "agent.split.viaRemote": 2.5,
    "agent.split.unanswered": Number.MAX_SAFE_INTEGER + 2,
    "agent.split.refused": 3,
    "agent.split.anything": 1,
    "agent.whatever": 4,
  });
  assert.deepEqual(progress, { "agent.dnsMode": SPLIT, "agent.split.refused": 3 });
  assert.ok(AGENT_PROGRESS_KEYS.length <= 16, "a bounded whitelist");
});

test("one line for a terminal, per mode", () => {
  assert.equal(
    describeRemoteDns({ mode: "split", setup: "resolv-conf-forwarder-native", ...COUNTS }),
    "split DNS on the remote: 12 names through this computer, 340 through its own resolver, 0 unanswered, " +
      "2 refused, 0 overloaded (resolv.conf names Backhaul's split forwarder (native relay))",
  );
  assert.match(
    describeRemoteDns({ mode: "split", setup: "systemd-resolved" }),
    /systemd-resolved.*no forwarder/,
  );
  assert.match(describeRemoteDns({ mode: "split", setup: null }), /no counts reported yet/);
  assert.match(
    describeRemoteDns({ mode: "all", setup: "resolv-conf" }),
    /^all DNS of the remote through this computer/,
  );
  assert.match(describeRemoteDns({ mode: "off", setup: "none" }), /^DNS off on the remote/);
});

test("sameRemoteDns sees a changed count", () => {
  const a = { mode: "split" as const, setup: "resolv-conf-forwarder-native" as const, ...COUNTS };
  assert.ok(sameRemoteDns(a, { ...a }));
  assert.ok(!sameRemoteDns(a, { ...a, viaRemote: 341 }));
  assert.ok(!sameRemoteDns(a, null));
  assert.ok(sameRemoteDns(null, null));
});
