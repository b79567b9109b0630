import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Sandbox, sandboxUnavailable } from "./sandbox-target.js";

test("the sandbox says why it cannot run here", async (t) => {
  const dist = mkdtempSync(join(tmpdir(), "backhaul-dist-"));
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  const reason = await sandboxUnavailable(dist);
  if (process.platform !== "linux") assert.match(reason ?? "", /Linux/);
  else if (process.getuid?.() !== 0) assert.match(reason ?? "", /needs root/);
  else if (!existsSync("/dev/net/tun")) assert.match(reason ?? "", /\/dev\/net\/tun/);
  else assert.match(reason ?? "", /the agent is not built/);
});

test("a sandbox that never started has nothing to remove", async () => {
  const sandbox = new Sandbox({
    distDir: "/nonexistent",
    dataDir: "/nonexistent",
    log: () => assert.fail("no log"),
  });
  assert.equal(sandbox.name, `bh-sandbox-${process.pid}`);
  await sandbox.destroy();
});
