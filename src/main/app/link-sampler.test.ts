import assert from "node:assert/strict";
import { test } from "node:test";
import type { FlowRow } from "../../shared/flow-row.js";
import { testFlowRow } from "../../shared/test-flow-row.js";
import { LinkSampler } from "./link-sampler.js";

function row(id: number, upBytes: number, downBytes: number): FlowRow {
  return testFlowRow(id, { upBytes, downBytes });
}

test("rates come from the bytes added since the last sample", () => {
  const sampler = new LinkSampler(0);
  sampler.observe({ upserts: [row(1, 100, 1_000)], removals: [] });
  sampler.observe({ upserts: [row(1, 300, 5_000)], removals: [] });
  assert.deepEqual(sampler.sample(1_000, 2.5, 1), {
    at: 1_000,
    upBps: 300,
    downBps: 5_000,
    rttMs: 2.5,
    openFlows: 1,
    upBytes: 300,
    downBytes: 5_000,
  });
  sampler.observe({ upserts: [row(1, 300, 9_000)], removals: [] });
  const second = sampler.sample(3_000, null, 1);
  assert.equal(second.downBps, 2_000);
  assert.equal(second.upBps, 0);
  assert.equal(second.downBytes, 9_000);
});

test("a row removed between samples still counts, and a row id reused after a removal starts from zero", () => {
  const sampler = new LinkSampler(0);
  sampler.observe({ upserts: [row(1, 0, 4_000), row(2, 10, 10)], removals: [] });
  sampler.observe({ upserts: [], removals: [1] });
  const sample = sampler.sample(1_000, null, 1);
  assert.equal(sample.downBytes, 4_010);
  sampler.observe({ upserts: [row(1, 0, 50)], removals: [] });
  assert.equal(sampler.sample(2_000, null, 2).downBytes, 4_060);
});

test("a new exit session numbers its rows afresh; the totals carry on", () => {
  const sampler = new LinkSampler(0);
  sampler.observe({ upserts: [row(1, 0, 1_000)], removals: [] });
  sampler.resetRows();
  sampler.observe({ upserts: [row(1, 0, 200)], removals: [] });
  assert.equal(sampler.sample(1_000, null, 1).downBytes, 1_200);
});
