import assert from "node:assert/strict";
import { test } from "node:test";
import { chartPaths, niceCeiling } from "./chart.js";
import { formatAgo, formatBytes, formatDuration, formatLatency, formatRate } from "./format.js";
import { parsePrefixLines } from "./state/settings-store.js";
import { stepStatus } from "./state/steps.js";

test("bytes, rates, durations and latencies read short", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(150 * 1024 * 1024), "150 MiB");
  assert.equal(formatRate(0.4), "–");
  assert.equal(formatRate(2048), "2.0 KiB/s");
  assert.equal(formatDuration(42_900), "42s");
  assert.equal(formatDuration(185_000), "3m 05s");
  assert.equal(formatDuration(2 * 3_600_000 + 4 * 60_000), "2h 04m");
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), "3d 4h");
  assert.equal(formatDuration(-5), "0s");
  assert.equal(formatAgo(30_000), "just now");
  assert.equal(formatAgo(5 * 60_000), "5 min ago");
  assert.equal(formatAgo(50 * 3_600_000), "2 d ago");
  assert.equal(formatLatency(0.42), "0.4 ms");
  assert.equal(formatLatency(12.4), "12 ms");
  assert.equal(formatLatency(1_200), "1.20 s");
});

test("the chart's ceiling is a round number above the peak; the newest sample is at the right edge", () => {
  assert.equal(niceCeiling(1), 1);
  assert.equal(niceCeiling(700), 1_000);
  assert.equal(niceCeiling(1_500), 2 * 1024);
  assert.equal(niceCeiling(3 * 1024 * 1024), 5 * 1024 * 1024);
  assert.equal(niceCeiling(8 * 1024 * 1024), 10 * 1024 * 1024);
  assert.equal(niceCeiling(200 * 1024), 200 * 1024);
  const sample = (upBps: number, downBps: number) => ({
    at: 0,
    upBps,
    downBps,
    rttMs: null,
    openFlows: 0,
    upBytes: 0,
    downBytes: 0,
  });
  const paths = chartPaths([sample(0, 5 * 1024), sample(10 * 1024, 0)], 120, 50);
  assert.equal(paths.ceiling, 10 * 1024);
  assert.equal(paths.down, "M118 25 L119 50");
  assert.equal(paths.up, "M118 50 L119 0");
  assert.equal(paths.downArea, "M118 25 L119 50 L119 50 L118 50 Z");
  assert.equal(chartPaths([], 120, 50).up, "");
});

test("prefix boxes take one CIDR per line, commas too, blanks ignored", () => {
  assert.deepEqual(parsePrefixLines(" 10.0.0.0/8\n\n  fd00::/8 ,192.168.1.0/24\n"), [
    "10.0.0.0/8",
    "fd00::/8",
    "192.168.1.0/24",
  ]);
  assert.deepEqual(parsePrefixLines("  \n"), []);
});

test("connect steps before the current one are done, after it pending; all done once connected", () => {
  const statuses = (phase: "connecting" | "connected", step: "upload" | null) =>
    (["start", "ssh", "upload", "agent"] as const).map((s) => stepStatus({ phase, step }, s));
  assert.deepEqual(statuses("connecting", "upload"), ["done", "done", "current", "pending"]);
  assert.deepEqual(statuses("connecting", null), ["pending", "pending", "pending", "pending"]);
  assert.deepEqual(statuses("connected", null), ["done", "done", "done", "done"]);
});
