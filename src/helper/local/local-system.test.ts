import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ResolvConfConfigurator, renderResolvConf } from "../system/dns/resolv-conf.js";
import { Journal } from "../system/journal.js";
import { systemUndo } from "../system/system-undo.js";
import { fakeProc, tempDir } from "../system/testing.js";
import { rewrittenByBackhaul, SharedResolvConfError } from "./local-system.js";

test("resolv.conf rewritten by a session, split or all, is recognised; the user's own is not", async (t) => {
  const { dir, remove } = await tempDir();
  t.after(remove);
  const path = join(dir, "resolv.conf");
  const original = "# mine: written by backhaul? no\nnameserver 198.18.7.53\n";
  await writeFile(path, original);
  assert.equal(rewrittenByBackhaul(original), false);
  assert.equal(rewrittenByBackhaul(`search a.test\n# Written by backhaul\nnameserver 198.18.7.53\n`), false);
  assert.equal(rewrittenByBackhaul(renderResolvConf(original, ["198.18.0.2"])), true, "mode all");

  const journal = new Journal({
    path: join(dir, "journal.json"),
    proc: fakeProc({ [process.pid]: { startTime: "1" } }),
    undo: systemUndo({}),
    log: () => {},
  });
  await journal.recoverFromPreviousRun();
  const split = new ResolvConfConfigurator(path, undefined, { address: "127.0.0.1", port: 0 });
  try {
    await split.apply({ mode: "split", servers: ["198.18.0.2"], domains: ["r1.test"] }, journal);
    assert.equal(rewrittenByBackhaul(await readFile(path, "utf8")), true, "mode split");
  } finally {
    await split.close();
    await journal.undoAll();
  }
  assert.equal(rewrittenByBackhaul(await readFile(path, "utf8")), false, "restored");
  assert.match(new SharedResolvConfError(path).message, /end that session first, or .* --socks/);
});
