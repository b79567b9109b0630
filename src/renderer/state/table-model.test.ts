import assert from "node:assert/strict";
import { test } from "node:test";
import type { DnsRow } from "../../shared/dns-row.js";
import type { FlowRow } from "../../shared/flow-row.js";
import { testFlowRow } from "../../shared/test-flow-row.js";
import {
  FADE_MS,
  IDLE_MS,
  RATE_TAU_MS,
  applyDnsDeltas,
  applyFlowDeltas,
  dnsTableFrom,
  flowEnding,
  flowTableFrom,
  tickDns,
  tickFlows,
  type DnsEntry,
  type FlowEntry,
  type Table,
} from "./table-model.js";

const T0 = 1_700_000_000_000;

function flow(id: number, change: Partial<FlowRow> = {}): FlowRow {
  return testFlowRow(id, {
    destination: "198.19.0.10:443",
    localSocket: "198.18.1.1:50000",
    startedAt: T0,
    lastActivityAt: T0,
    ...change,
  });
}

function answer(id: number, name = "www.corp.test"): DnsRow {
  return {
    id,
    name,
    type: "A",
    answers: ["198.19.0.10"],
    ttl: 300,
    rcode: "NOERROR",
    resolver: "198.19.0.53:53 udp",
    detail: null,
    latencyMs: 1.5,
    at: T0,
    transport: "udp",
  };
}

function entry(table: Table<FlowEntry>, id: number): FlowEntry {
  const found = table.get(id);
  assert.ok(found, `flow ${id} is in the table`);
  return found;
}

test("a snapshot becomes entries with no rate yet", () => {
  const table = flowTableFrom([flow(1, { upBytes: 500 }), flow(2)], T0);
  assert.equal(table.size, 2);
  assert.equal(entry(table, 1).upRate, 0);
  assert.equal(entry(table, 1).sampleUp, 500);
  assert.equal(flowEnding(entry(table, 1)), null);
});

test("the first rate is the bytes over the time between two deltas, taken as is", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1)], T0);
  table = applyFlowDeltas(
    table,
    [{ upserts: [flow(1, { upBytes: 1_000, downBytes: 50_000 })], removals: [] }],
    T0 + 500,
  );
  assert.equal(entry(table, 1).upRate, 2_000);
  assert.equal(entry(table, 1).downRate, 100_000);
  assert.equal(entry(table, 1).row.downBytes, 50_000);
});

test("later rates are smoothed towards the new measurement with a one-second time constant", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1)], T0);
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { downBytes: 100_000 })], removals: [] }], T0 + 1_000);
  assert.equal(entry(table, 1).downRate, 100_000);
  // The next second moves 300,000 bytes: the rate goes 1 - e^-1 of the way from 100 k to 300 k.
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { downBytes: 400_000 })], removals: [] }], T0 + 2_000);
  const expected = 100_000 + (1 - Math.exp(-1_000 / RATE_TAU_MS)) * 200_000;
  assert.ok(Math.abs(entry(table, 1).downRate - expected) < 1e-6);
});

test("deltas in the same frame fold into one rate sample, no byte lost", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1)], T0);
  table = applyFlowDeltas(
    table,
    [
      { upserts: [flow(1, { upBytes: 100 })], removals: [] },
      { upserts: [flow(1, { upBytes: 300 })], removals: [] },
    ],
    T0 + 1_000,
  );
  assert.equal(entry(table, 1).upRate, 300);
  // A delta 10 ms later updates the row but not the sample it measures from.
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { upBytes: 400 })], removals: [] }], T0 + 1_010);
  assert.equal(entry(table, 1).row.upBytes, 400);
  assert.equal(entry(table, 1).upRate, 300);
  assert.equal(entry(table, 1).sampleUp, 300);
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { upBytes: 600 })], removals: [] }], T0 + 2_000);
  assert.equal(entry(table, 1).sampleUp, 600, "the next sample counts the 100 bytes of the short step");
});

test("counters that go backwards do not make a negative rate", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1, { upBytes: 1_000 })], T0);
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { upBytes: 10 })], removals: [] }], T0 + 1_000);
  assert.equal(entry(table, 1).upRate, 0);
});

test("a closed flow stays, shows no rate, and is marked closed", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1)], T0);
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { downBytes: 5_000 })], removals: [] }], T0 + 1_000);
  table = applyFlowDeltas(
    table,
    [{ upserts: [flow(1, { downBytes: 6_000, state: "CLOSED", closedAt: T0 + 1_500 })], removals: [] }],
    T0 + 1_500,
  );
  assert.equal(flowEnding(entry(table, 1)), "closed");
  assert.equal(entry(table, 1).downRate, 0);
  assert.equal(entry(table, 1).row.downBytes, 6_000);
  assert.equal(tickFlows(table, T0 + 60_000).has(1), true, "closed rows leave when main removes them");
});

test("a removed row fades for FADE_MS, then leaves on a tick", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1), flow(2)], T0);
  table = applyFlowDeltas(table, [{ upserts: [], removals: [1, 99] }], T0 + 100);
  assert.equal(flowEnding(entry(table, 1)), "removed");
  assert.equal(entry(table, 1).removedAt, T0 + 100);
  assert.equal(table.has(99), false, "removing an unknown row is a no-op");
  const again = applyFlowDeltas(table, [{ upserts: [], removals: [1] }], T0 + 500);
  assert.equal(entry(again, 1).removedAt, T0 + 100, "a second removal does not restart the fade");

  assert.equal(tickFlows(table, T0 + 100 + FADE_MS - 1), table, "still fading: same map");
  const after = tickFlows(table, T0 + 100 + FADE_MS);
  assert.deepEqual([...after.keys()], [2]);
});

test("a removed row that comes back is live again", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1)], T0);
  table = applyFlowDeltas(table, [{ upserts: [], removals: [1] }], T0 + 100);
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { upBytes: 10 })], removals: [] }], T0 + 200);
  assert.equal(flowEnding(entry(table, 1)), null);
});

test("a flow that went quiet shows no rate after IDLE_MS", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1)], T0);
  table = applyFlowDeltas(table, [{ upserts: [flow(1, { upBytes: 10_000 })], removals: [] }], T0 + 1_000);
  assert.equal(tickFlows(table, T0 + 1_000 + IDLE_MS - 1), table);
  const quiet = tickFlows(table, T0 + 1_000 + IDLE_MS);
  assert.equal(entry(quiet, 1).upRate, 0);
  assert.equal(entry(quiet, 1).row.upBytes, 10_000);
});

test("empty deltas and idle ticks keep the same map, so nothing re-renders", () => {
  const table = flowTableFrom([flow(1)], T0);
  assert.equal(applyFlowDeltas(table, [{ upserts: [], removals: [] }], T0 + 1), table);
  assert.equal(tickFlows(table, T0 + 60_000), table);
});

test("the input table is never changed", () => {
  const table = flowTableFrom([flow(1)], T0);
  const before = entry(table, 1);
  const after = applyFlowDeltas(
    table,
    [{ upserts: [flow(1, { upBytes: 1 }), flow(2)], removals: [] }],
    T0 + 1_000,
  );
  assert.equal(table.size, 1);
  assert.equal(entry(table, 1), before);
  assert.equal(after.size, 2);
});

test("the search text follows the row's text columns and is reused while they do not change", () => {
  let table: Table<FlowEntry> = flowTableFrom([flow(1, { protocol: "udp", state: "ACTIVE" })], T0);
  const first = entry(table, 1).search;
  assert.match(first, /^udp 198\.18\.0\.2:40000 198\.19\.0\.10:443 198\.18\.1\.1:50000 active/);
  table = applyFlowDeltas(
    table,
    [{ upserts: [flow(1, { protocol: "udp", state: "ACTIVE", upBytes: 9 })], removals: [] }],
    T0 + 1_000,
  );
  assert.equal(entry(table, 1).search, first);
  table = applyFlowDeltas(
    table,
    [{ upserts: [flow(1, { protocol: "udp", state: "CLOSED", closeReason: "Idle timeout" })], removals: [] }],
    T0 + 2_000,
  );
  assert.match(entry(table, 1).search, /closed idle timeout remote-to-local remote → here$/);
  // A row of the agent's exit says its direction, so the filter can pick it.
  table = applyFlowDeltas(
    table,
    [
      {
        upserts: [flow(1, { protocol: "udp", state: "CLOSED", direction: "local-to-remote" })],
        removals: [],
      },
    ],
    T0 + 3_000,
  );
  assert.match(entry(table, 1).search, /local-to-remote here → remote$/);
});

test("DNS rows are added, fade when removed, then leave", () => {
  let table: Table<DnsEntry> = dnsTableFrom([answer(1)]);
  table = applyDnsDeltas(table, [{ upserts: [answer(2, "db.corp.test")], removals: [1] }], T0);
  assert.equal(table.get(1)?.removedAt, T0);
  assert.equal(table.get(2)?.removedAt, null);
  assert.match(table.get(2)?.search ?? "", /^db\.corp\.test a 198\.19\.0\.10 noerror/);
  assert.equal(tickDns(table, T0 + FADE_MS - 1), table);
  assert.deepEqual([...tickDns(table, T0 + FADE_MS).keys()], [2]);
});

test("the filter finds a flow or an answer by its session's name", () => {
  const flows = flowTableFrom([flow(1, { session: "Devbox" }), flow(2)], T0);
  assert.match(entry(flows, 1).search, / devbox$/);
  assert.doesNotMatch(entry(flows, 2).search, /devbox/, "a row without a session has none");
  const answers = dnsTableFrom([{ ...answer(3), session: "fuzzy-x" }]);
  assert.match(answers.get(3)?.search ?? "", / fuzzy-x$/);
});
