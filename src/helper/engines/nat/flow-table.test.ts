// The flow table's publishing: copies of changed rows, closed rows kept for the UI's fade-out and
// then removed, and nothing pending once nobody listens.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FlowRow, TableDelta } from "../../../shared/flow-row.js";
import { FlowTable } from "./flow-table.js";

const FLOW = {
  protocol: "tcp",
  family: 4,
  remote: "198.18.0.2:40000",
  destination: "198.19.0.10:80",
  name: null,
  state: "ESTABLISHED",
} as const;

test("changed rows go out as copies; a closed row stays its retention time, then goes as a removal", () => {
  let now = 1_000;
  const table = new FlowTable({ publishIntervalMs: 60_000, closedRetentionMs: 10_000, now: () => now });
  const deltas: TableDelta<FlowRow>[] = [];
  table.subscribe((delta) => deltas.push(delta));
  const row = table.add(FLOW);
  row.upBytes = 5;
  table.markDirty(row);
  table.publish();
  assert.deepEqual(
    deltas.map((delta) => [delta.upserts.map((r) => [r.id, r.upBytes]), delta.removals]),
    [[[[1, 5]], []]],
  );
  deltas[0]!.upserts[0]!.upBytes = 99;
  assert.equal(table.get(1)?.upBytes, 5, "subscribers get copies");

  table.close(row, "FIN");
  now += 9_999;
  table.publish();
  assert.equal(deltas[1]?.upserts[0]?.state, "CLOSED");
  assert.equal(table.size, 1, "still shown while it fades out");
  assert.equal(table.openCount, 0);
  now += 1;
  table.publish();
  assert.deepEqual(deltas[2], { upserts: [], removals: [1] });
  assert.equal(table.size, 0);
  table.stop();
});

test("the last subscriber leaving drops what was pending; a new one starts from the snapshot", () => {
  const table = new FlowTable({ publishIntervalMs: 60_000 });
  const first: TableDelta<FlowRow>[] = [];
  const unsubscribe = table.subscribe((delta) => first.push(delta));
  table.add(FLOW);
  unsubscribe();
  const second: TableDelta<FlowRow>[] = [];
  table.subscribe((delta) => second.push(delta));
  assert.deepEqual(
    table.snapshot().map((r) => r.id),
    [1],
  );
  table.publish();
  assert.deepEqual([first, second], [[], []]);
  table.stop();
});
