import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Journal } from "../journal.js";
import { systemUndo } from "../system-undo.js";
import { fakeProc, recordingRunner, tempDir } from "../testing.js";
import { ResolvedConfigurator } from "./resolved.js";

async function withJournal(
  run: Parameters<typeof systemUndo>[0],
  body: (journal: Journal) => Promise<void>,
): Promise<void> {
  const { dir, remove } = await tempDir();
  try {
    const journal = new Journal({
      path: join(dir, "journal.json"),
      proc: fakeProc({ [process.pid]: { startTime: "1" } }),
      undo: systemUndo(run),
      log: () => {},
    });
    await journal.recoverFromPreviousRun();
    await body(journal);
  } finally {
    await remove();
  }
}

test("mode all routes every name to the link; undo reverts the link", async () => {
  const runner = recordingRunner();
  await withJournal({ run: runner.run }, async (journal) => {
    await new ResolvedConfigurator("bh0", runner.run).apply(
      { mode: "all", servers: ["198.18.0.2", "2001:db8:1::2"] },
      journal,
    );
    assert.deepEqual(journal.entries(), [{ id: 1, kind: "resolved-link", link: "bh0" }]);
    const report = await journal.undoAll();
    assert.equal(report.undone.length, 1);
  });
  assert.deepEqual(runner.calls, [
    "resolvectl dns bh0 198.18.0.2 2001:db8:1::2",
    "resolvectl domain bh0 ~.",
    "resolvectl revert bh0",
  ]);
});

test("mode split routes only its domains; a link already gone counts as undone", async () => {
  const runner = recordingRunner((command) =>
    command.startsWith("resolvectl revert")
      ? { fails: 'Failed to resolve interface "bh0": No such device' }
      : undefined,
  );
  await withJournal({ run: runner.run }, async (journal) => {
    const settings = { mode: "split" as const, servers: ["198.18.0.2"], domains: ["corp.test", "lab.test"] };
    await new ResolvedConfigurator("bh0", runner.run).apply(settings, journal);
    const report = await journal.undoAll();
    assert.equal(report.alreadyGone.length, 1);
    assert.deepEqual(report.failed, []);
  });
  assert.deepEqual(runner.calls, [
    "resolvectl dns bh0 198.18.0.2",
    "resolvectl domain bh0 ~corp.test ~lab.test",
    "resolvectl default-route bh0 false",
    "resolvectl revert bh0",
  ]);
});

test("a later CONFIG's split domains replace the link's routing domains, nothing else", async () => {
  const runner = recordingRunner(() => undefined);
  const configurator = new ResolvedConfigurator("bh0", runner.run);
  await configurator.update({
    mode: "split",
    servers: ["198.18.0.2"],
    domains: ["corp.test", "20.10.in-addr.arpa"],
  });
  assert.deepEqual(runner.calls, ["resolvectl domain bh0 ~corp.test ~20.10.in-addr.arpa"]);
});
