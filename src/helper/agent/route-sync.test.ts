import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { Journal } from "../system/journal.js";
import { RouteSync } from "./route-sync.js";
import type { RemoteRouting } from "./routes.js";
import { systemUndo } from "../system/system-undo.js";
import { fakeProc, recordingRunner, tempDir, type RecordingRunner } from "../system/testing.js";

const ROUTING: RemoteRouting = {
  networks: [{ prefix: "198.19.5.0/24", dev: "eth0", kind: "connected" }],
  mainRoutes: [
    { prefix: "198.19.5.0/24", description: "198.19.5.0/24 dev eth0" },
    { prefix: "198.18.64.0/24", description: "198.18.64.0/24 via 198.19.5.2 dev eth0" },
  ],
  linkPath: [],
};

let dir: string;
let remove: () => Promise<void>;
let runner: RecordingRunner;
let journal: Journal;
let sync: RouteSync;

beforeEach(async () => {
  ({ dir, remove } = await tempDir());
  runner = recordingRunner((command) => {
    if (command === "ip -4 route add 198.18.70.0/24 dev bh0")
      return { fails: "RTNETLINK answers: File exists" };
    if (command === "ip -4 route add 198.18.71.0/24 dev bh0") return { fails: "no answer within 10000 ms" };
    if (command === "ip -4 route del 198.18.66.0/24 dev bh0")
      return { fails: "RTNETLINK answers: No such process" };
    return undefined;
  });
  journal = new Journal({
    path: join(dir, "journal.json"),
    proc: fakeProc({ [process.pid]: { startTime: "1" } }),
    undo: systemUndo({ run: runner.run }),
    log: () => {},
  });
  await journal.recoverFromPreviousRun();
  sync = new RouteSync({ journal, dev: "bh0", run: runner.run, readRouting: () => Promise.resolve(ROUTING) });
});

afterEach(() => remove());

test("adds new routes, removes gone ones, and touches no other route", async () => {
  const first = await sync.apply(["198.19.0.0/16", "198.19.5.0/24", "2001:db8:19::/48", "198.18.64.0/24"]);
  assert.deepEqual(first.added, ["198.19.0.0/16", "2001:db8:19::/48"]);
  assert.deepEqual(
    first.skip.map((skip) => skip.prefix),
    ["198.19.5.0/24", "198.18.64.0/24"],
  );
  assert.deepEqual(runner.calls, [
    "ip -4 route add 198.19.0.0/16 dev bh0",
    "ip -6 route add 2001:db8:19::/48 dev bh0",
  ]);

  runner.calls.length = 0;
  const second = await sync.apply(["198.19.0.0/16", "198.18.66.0/24"]);
  assert.deepEqual(second.added, ["198.18.66.0/24"]);
  assert.deepEqual(second.removed, ["2001:db8:19::/48"]);
  assert.deepEqual(runner.calls, [
    "ip -4 route add 198.18.66.0/24 dev bh0",
    "ip -6 route del 2001:db8:19::/48 dev bh0",
  ]);
  assert.deepEqual(sync.current(), ["198.19.0.0/16", "198.18.66.0/24"]);

  runner.calls.length = 0;
  const same = await sync.apply(["198.18.66.0/24", "198.19.0.0/16"]);
  assert.deepEqual([same.added, same.removed, runner.calls], [[], [], []], "no change, no command");
});

test("a route someone removed meanwhile is dropped quietly", async () => {
  await sync.apply(["198.18.66.0/24"]);
  const result = await sync.apply([]);
  assert.deepEqual(result.removed, ["198.18.66.0/24"]);
  assert.deepEqual(result.failed, []);
  assert.deepEqual(journal.entries(), []);
});

test("a failed add is reported; 'File exists' leaves nothing to undo, a timeout stays journaled", async () => {
  const result = await sync.apply(["198.18.70.0/24", "198.18.71.0/24", "198.18.72.0/24"]);
  assert.deepEqual(result.added, ["198.18.72.0/24"]);
  assert.deepEqual(
    result.failed.map((failure) => [failure.prefix, failure.action]),
    [
      ["198.18.70.0/24", "add"],
      ["198.18.71.0/24", "add"],
    ],
  );
  assert.match(
    result.failed[0]?.error.message ?? "",
    /already has a route for 198\.18\.70\.0\/24: not replaced/,
  );
  assert.deepEqual(sync.current(), ["198.18.71.0/24", "198.18.72.0/24"]);

  runner.calls.length = 0;
  const report = await journal.undoAll();
  assert.equal(report.failed.length, 0);
  assert.deepEqual(runner.calls, [
    "ip -4 route del 198.18.72.0/24 dev bh0",
    "ip -4 route del 198.18.71.0/24 dev bh0",
  ]);
});
