import assert from "node:assert/strict";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { Journal, type UndoOutcome } from "../system/journal.js";
import { undoOnShutdown } from "./shutdown.js";
import { fakeProc, tempDir } from "../system/testing.js";

async function setUp(
  failing = false,
): Promise<{ journal: Journal; undone: string[]; remove: () => Promise<void> }> {
  const { dir, remove } = await tempDir();
  const undone: string[] = [];
  const journal = new Journal({
    path: join(dir, "journal.json"),
    proc: fakeProc({ [process.pid]: { startTime: "1" } }),
    log: () => {},
    undo: (entry): Promise<UndoOutcome> => {
      if (failing) return Promise.reject(new Error("EPERM"));
      undone.push(entry.kind);
      return Promise.resolve({ status: "undone" });
    },
  });
  await journal.recoverFromPreviousRun();
  await journal.recordThenApply({ kind: "tun", name: "bh0" }, async () => {});
  await journal.recordThenApply({ kind: "route", prefix: "198.19.0.0/16", dev: "bh0" }, async () => {});
  return { journal, undone, remove };
}

test("a signal undoes everything once and exits 0; a second signal does not undo again", async () => {
  const { journal, undone, remove } = await setUp();
  const exits: number[] = [];
  const reasons: string[] = [];
  const shutdown = undoOnShutdown(journal, {
    signals: ["SIGUSR2"],
    log: () => {},
    exit: (code) => exits.push(code),
    onUndone: (_report, reason) => reasons.push(reason),
  });
  try {
    process.emit("SIGUSR2", "SIGUSR2");
    process.emit("SIGUSR2", "SIGUSR2");
    await shutdown.stop("asked to stop");
    assert.deepEqual(undone, ["route", "tun"]);
    assert.deepEqual(exits, [0]);
    assert.deepEqual(reasons, ["received SIGUSR2"]);
  } finally {
    shutdown.dispose();
    await remove();
  }
});

test("the link's stream ending undoes everything; a failed undo exits 1", async () => {
  const { journal, remove } = await setUp(true);
  const exits: number[] = [];
  const lines: string[] = [];
  const shutdown = undoOnShutdown(journal, {
    signals: [],
    log: (line) => lines.push(line),
    exit: (code) => exits.push(code),
  });
  try {
    const link = new PassThrough();
    shutdown.watchStream(link, "the link");
    link.end();
    link.resume();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await shutdown.stop("again");
    assert.deepEqual(exits, [1]);
    assert.match(lines.join("\n"), /the link ended: undoing system changes/);
    assert.match(lines.join("\n"), /FAILED to undo route 198\.19\.0\.0\/16 dev bh0: EPERM/);
  } finally {
    shutdown.dispose();
    await remove();
  }
});
