import assert from "node:assert/strict";
import { test } from "node:test";
import type { FlowRow } from "../../shared/flow-row.js";
import { testFlowRow } from "../../shared/test-flow-row.js";
import { FlowTotals } from "./flow-totals.js";

function row(id: number, upBytes: number, downBytes: number): FlowRow {
  return testFlowRow(id, { upBytes, downBytes });
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
