// The agent's single-instance lock: only a process that can open a file in the journal's own
// (0700, ours) directory can take it, and the kernel frees it when its holder dies.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chown, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { test } from "node:test";
import { JournalError } from "./errors.js";
import { acquireInstanceLock, lockPath } from "./instance-lock.js";

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "backhaul-lock-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, "run", "journal.json");
}

test("a process squatting the old abstract socket name does not stop the agent", async (t) => {
  const journal = await scratch(t);
  // The name the agent used to take: predictable, so any user could bind it first.
  const oldName = `\0backhaul-agent-${createHash("sha256").update(journal).digest("hex").slice(0, 32)}`;
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen({ path: oldName }, resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const lock = await acquireInstanceLock(journal);
  assert.notEqual(lock, null, "the lock is taken despite the squatter");
  await lock?.release();
});

test("held once at a time; the file is 0600 in a 0700 directory", async (t) => {
  const journal = await scratch(t);
  const first = await acquireInstanceLock(journal);
  assert.ok(first);
  assert.equal(await acquireInstanceLock(journal), null, "a second holder is refused");
  assert.equal((await stat(lockPath(journal))).mode & 0o777, 0o600);
  assert.equal((await stat(join(journal, ".."))).mode & 0o777, 0o700);
  await first.release();
  const again = await acquireInstanceLock(journal);
  assert.ok(again, "free after release");
  await again.release();
});

test("a directory that belongs to someone else is refused", async (t) => {
  const journal = await scratch(t);
  await mkdir(join(journal, ".."), { recursive: true, mode: 0o700 });
  if (process.getuid?.() !== 0) return t.skip("needs root to give the directory away");
  await chown(join(journal, ".."), 65534, 65534);
  await assert.rejects(acquireInstanceLock(journal), (error: unknown) => {
    assert.ok(error instanceof JournalError);
    assert.match(error.message, /belongs to uid 65534/);
    return true;
  });
});

test("the kernel frees the lock when its holder is killed", async (t) => {
  const journal = await scratch(t);
  const script = [
    `import { acquireInstanceLock } from ${JSON.stringify(new URL("./instance-lock.ts", import.meta.url).href)};`,
    `const lock = await acquireInstanceLock(${JSON.stringify(journal)});`,
    `process.stdout.write(lock ? "locked\\n" : "refused\\n");`,
    "setInterval(() => undefined, 1000);",
  ].join("\n");
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => void child.kill("SIGKILL"));
  const [first] = (await once(child.stdout, "data")) as [Buffer];
  assert.equal(first.toString().trim(), "locked");
  assert.equal(await acquireInstanceLock(journal), null, "held by the child");
  child.kill("SIGKILL");
  await once(child, "exit");
  const lock = await acquireInstanceLock(journal);
  assert.ok(lock, "free once the holder died");
  await lock.release();
});
