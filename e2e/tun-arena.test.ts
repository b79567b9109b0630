// The arena TunDevice lends onBatch (src/helper/native/src/poll_object.c), against the real kernel.
//
// A child process in a namespace made for this run (e2e/netns/tun-arena-child.ts) drives the
// native TunDevice directly, sends UDP datagrams with distinct payloads into the TUN's routed
// prefix in rounds, and reports what onBatch saw. Checked here: every batch comes in the same
// Buffer and every datagram arrives intact; close() from inside onBatch ends the batches and lets
// the process exit; and JavaScript detaching the lent memory (transfer) neither crashes the
// process nor lets read() write into the memory it gave away.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { inAddonLab } from "./netns/addon-lab.js";
import type { NetworkNamespace } from "./netns/index.js";
import { PER_ROUND, ROUNDS, type ArenaMode, type ArenaReport } from "./netns/tun-arena-protocol.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHILD = "e2e/netns/tun-arena-child.ts";
const DATAGRAMS = ROUNDS * PER_ROUND;
const everyIndex = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** Runs the child in `mode`; it must exit 0 on its own, with one report line and nothing on stderr. */
async function runArenaChild(ns: NetworkNamespace, mode: ArenaMode): Promise<ArenaReport> {
  const result = await ns.run(process.execPath, ["--import", "tsx", CHILD, mode], {
    cwd: ROOT,
    timeoutMs: 90_000,
  });
  const context = `exit ${result.code} signal ${result.signal}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assert.equal(result.timedOut, false, `the child did not exit by itself\n${context}`);
  assert.equal(result.code, 0, context);
  assert.equal(result.stderr.trim(), "", context);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, 1, context);
  const report = JSON.parse(lines[0]!) as ArenaReport;
  assert.equal(report.mode, mode);
  return report;
}

test(
  "TunDevice's lent arena, real kernel",
  { timeout: 300_000 },
  inAddonLab({ tun: true }, async (lab, t) => {
    const ns = await lab.createNamespace("arena");

    await t.test("the same Buffer on every call, every datagram intact", async () => {
      const report = await runArenaChild(ns, "intact");
      assert.deepEqual(report.problems, []);
      assert.deepEqual(
        [...report.intact].sort((a, b) => a - b),
        everyIndex(DATAGRAMS),
      );
      // One round per wakeup at least: the Buffer really was reused.
      assert.ok(report.batches >= ROUNDS, `only ${report.batches} batches`);
      assert.equal(report.otherBuffers, 0);
    });

    await t.test("close() inside onBatch: no further onBatch, the process exits cleanly", async () => {
      const report = await runArenaChild(ns, "close-inside");
      assert.deepEqual(report.problems, []);
      assert.equal(report.onBatchAfterClose, 0);
      // It closed on the first batch with our datagrams, before the second round was sent.
      assert.ok(
        report.intact.length > 0 && report.intact.length <= PER_ROUND,
        `${report.intact.length} arrived`,
      );
    });

    await t.test(
      "a detached arena: no crash, the memory given away is left alone, later packets intact",
      async () => {
        const report = await runArenaChild(ns, "detach");
        assert.deepEqual(report.problems, []);
        assert.ok(report.detachedWith, "the arena was never detached");
        assert.deepEqual(report.givenAwayChanged, { arena: false, lengths: false });
        assert.deepEqual(
          [...report.intact].sort((a, b) => a - b),
          everyIndex(DATAGRAMS),
        );
        // After the detach, batches come in a new Buffer.
        assert.ok(report.otherBuffers >= ROUNDS - 1, `${report.otherBuffers} batches in another Buffer`);
      },
    );
  }),
);
