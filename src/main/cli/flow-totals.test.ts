import assert from "node:assert/strict";
import { test } from "node:test";
import type { FlowRow } from "../../shared/flow-row.js";
import { FlowTotals } from "./flow-totals.js";

function row(id: number, upBytes: number, downBytes: number): FlowRow {
  return {
    id,
    protocol: "tcp",
    family: 4,
    remote: "198.18.0.2:40000",
    destination: "198.19.1.10:80",
    localSocket: null,
    state: "ESTABLISHED",
    upBytes,
    downBytes,
    upPackets: 0,
    downPackets: 0,
    startedAt: 0,
    lastActivityAt: 0,
    closedAt: null,
    closeReason: null,
  };
}

test("flows that left the table still count, each byte once, across a reconnect", () => {
  const totals = new FlowTotals();
  totals.apply({ upserts: [row(1, 100, 1_000), row(2, 5, 50)], removals: [] });
  totals.apply({ upserts: [row(1, 150, 3_000)], removals: [] });
  totals.apply({ upserts: [], removals: [1, 2] });
  assert.deepEqual([totals.up, totals.down], [155, 3_050]);
  totals.newTable(); // the next exit session numbers from 1 again
  totals.apply({ upserts: [row(1, 10, 20)], removals: [] });
  assert.deepEqual([totals.up, totals.down], [165, 3_070]);
});
