import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstat, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { newCredentials } from "../engines/proxy/credentials.js";
import { Journal } from "../system/journal.js";
import { proxyEnvPath, removeProxyEnvFile, renderProxyEnv, writeProxyEnvFile } from "./proxy-env.js";
import { systemUndo } from "../system/system-undo.js";
import { fakeProc, tempDir } from "../system/testing.js";

const ME = process.pid;
const DEAD_PID = 4_000_001;

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  const { dir, remove } = await tempDir();
  home = dir;
  cleanup = remove;
});
afterEach(() => cleanup());

async function openJournal(pid = ME): Promise<Journal> {
  const journal = new Journal({
    path: join(home, "state", "journal.json"),
    proc: fakeProc({ [pid]: { startTime: "1000" } }),
    undo: systemUndo(),
    log: () => undefined,
  });
  await journal.recoverFromPreviousRun();
  return journal;
}

test("the env file exports every variable and its lower-case twin for sh and bash", () => {
  const credentials = { username: "bh-u", password: "p_w-1" };
  const text = renderProxyEnv(credentials, 4321);
  for (const name of ["ALL_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"]) {
    assert.match(text, new RegExp(`^export ${name}='`, "m"));
    assert.match(text, new RegExp(`^export ${name.toLowerCase()}='`, "m"));
  }
  assert.match(text, /^export ALL_PROXY='socks5h:\/\/bh-u:p_w-1@127\.0\.0\.1:4321'$/m);
  assert.match(text, /^export HTTPS_PROXY='http:\/\/bh-u:p_w-1@127\.0\.0\.1:4321'$/m);
  assert.match(text, /^export no_proxy='localhost,127\.0\.0\.1,::1'$/m);
});

test("written 0600 in a 0700 directory, journaled, and removed by undoAll", async () => {
  const journal = await openJournal();
  const path = proxyEnvPath(home);
  const text = renderProxyEnv(newCredentials(), 1080);
  await writeProxyEnvFile(journal, path, text);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(home, ".config", "backhaul"))).mode & 0o777, 0o700);
  assert.equal(await readFile(path, "utf8"), text);
  assert.deepEqual(
    journal.entries().map((entry) => entry.kind),
    ["proxy-env"],
  );
  const report = await journal.undoAll();
  assert.equal(report.undone.length, 1);
  await assert.rejects(lstat(path), { code: "ENOENT" });
});

test("a symlink planted at the path is replaced, never followed: its target is untouched", async () => {
  const victim = join(home, "victim");
  await writeFile(victim, "precious\n");
  await mkdir(join(home, ".config", "backhaul"), { recursive: true, mode: 0o755 });
  const path = proxyEnvPath(home);
  await symlink(victim, path);
  const journal = await openJournal();
  await writeProxyEnvFile(journal, path, renderProxyEnv(newCredentials(), 1080));
  assert.equal(await readFile(victim, "utf8"), "precious\n");
  assert.ok((await lstat(path)).isFile());
  assert.equal(
    (await stat(join(home, ".config", "backhaul"))).mode & 0o777,
    0o700,
    "a loose directory is tightened",
  );
  await journal.undoAll();
});

test("undo leaves a changed file or a symlink alone, and a missing one is already gone", async () => {
  const path = proxyEnvPath(home);
  await mkdir(join(home, ".config", "backhaul"), { recursive: true, mode: 0o700 });
  await writeFile(path, "edited by the user\n");
  assert.equal((await removeProxyEnvFile({ path, writtenBytesSha256: "0".repeat(64) })).status, "left-alone");
  assert.equal(await readFile(path, "utf8"), "edited by the user\n");
  const link = join(home, "link.env");
  await symlink(path, link);
  assert.equal(
    (await removeProxyEnvFile({ path: link, writtenBytesSha256: "0".repeat(64) })).status,
    "left-alone",
  );
  assert.equal(
    (await removeProxyEnvFile({ path: join(home, "none"), writtenBytesSha256: "0" })).status,
    "already-gone",
  );
});

test("after a SIGKILL the next agent's start removes the file its journal lists", async () => {
  const path = proxyEnvPath(home);
  const text = renderProxyEnv(newCredentials(), 1080);
  await mkdir(join(home, ".config", "backhaul"), { recursive: true, mode: 0o700 });
  await writeFile(path, text, { mode: 0o600 });
  // What the killed agent left: its journal listing the file, its pid no longer running.
  const journalPath = join(home, "state", "journal.json");
  await mkdir(join(home, "state"), { mode: 0o700 });
  const entry = {
    id: 1,
    kind: "proxy-env",
    path,
    writtenBytesSha256: createHash("sha256").update(text).digest("hex"),
  };
  const owner = { pid: DEAD_PID, startTime: "1000", bootId: "boot-1" };
  await writeFile(journalPath, JSON.stringify({ version: 1, owner, entries: [entry] }), { mode: 0o600 });

  const next = await openJournal();
  assert.equal(next.entries().length, 0);
  await assert.rejects(lstat(path), { code: "ENOENT" });
  await next.undoAll();
});
