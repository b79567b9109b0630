import assert from "node:assert/strict";
import { test } from "node:test";
import type { DiagnoseResult } from "../../shared/api.js";
import { SPLIT_REMOTE_DNS } from "../../shared/test-remote-dns.js";
import { describeResult } from "./diagnose.js";

const RESULT: DiagnoseResult = {
  host: "host.corp.test",
  dns: { addresses: ["198.19.1.10"], error: null, latencyMs: 2 },
  address: "198.19.1.10",
  prefix: "198.19.0.0/16",
  route: { interface: "veth-s", gateway: null },
  policy: { allowed: true, reason: null },
  connect: { ok: true, latencyMs: 1, error: null },
  remote: null,
  remoteError: "the session is not connected now",
  remoteDns: null,
  verdict: "reachable",
  summary: "The remote will, once connected, reach host.corp.test:80.",
};

test("the text ends with the remote's DNS: split's counts in one line", () => {
  const text = describeResult(
    {
      ...RESULT,
      remoteDns: SPLIT_REMOTE_DNS,
    },
    80,
    "devbox",
  );
  const lines = text.split("\n");
  assert.match(
    lines.at(-1) ?? "",
    /^split DNS on the remote: 12 names through this computer, 340 through its own resolver, 0 unanswered, 0 refused, 0 overloaded/,
  );
  assert.ok(
    text.includes("not checked: the session is not connected now"),
    "the remote's checks still come first",
  );
});

test("without a session's DNS report the text has no such line; all mode says so", () => {
  assert.doesNotMatch(describeResult(RESULT, 80, "devbox"), /DNS on the remote|DNS of the remote/);
  // A session of an older backhaul answers without the field at all.
  const { remoteDns: _none, ...older } = RESULT;
  assert.doesNotMatch(describeResult(older as DiagnoseResult, 80, "devbox"), /DNS on the remote/);
  const all = describeResult({ ...RESULT, remoteDns: { mode: "all", setup: "resolv-conf" } }, 80, "devbox");
  assert.match(all, /\nall DNS of the remote through this computer \(resolv\.conf names Backhaul's stub\)$/);
});
