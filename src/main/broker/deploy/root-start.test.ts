// The script sudo runs, run here by a real sh as root on temporary directories: it runs only a
// root-owned copy whose SHA-256 is the uploaded one, and refuses anything else.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { REFUSED_EXIT_CODE, rootStartCommand } from "./root-start.js";

const AGENT = "backhaul-agent.cjs";
const ADDON = "backhaul_native.node";
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** Stands in for the agent: says where it runs from and with which arguments. */
const AGENT_TEXT = "process.stdout.write(JSON.stringify({ dir: __dirname, args: process.argv.slice(2) }));\n";
/** What a swapped-in file would do as root. */
const evil = (marker: string): string =>
  `require("fs").writeFileSync(${JSON.stringify(marker)}, "ran as root");\n`;

const rootReason =
  process.getuid?.() === 0 ? undefined : "the script checks that root owns its directory: run as root";

describe("the root start script", { skip: rootReason }, () => {
  async function setup(t: { after: (fn: () => Promise<void>) => void }) {
    const dir = await mkdtemp(join(tmpdir(), "backhaul-root-start-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const src = join(dir, "home", "cache");
    await mkdir(src, { recursive: true });
    await writeFile(join(src, AGENT), AGENT_TEXT);
    await writeFile(join(src, ADDON), "addon bytes");
    const rootDir = join(dir, "run", "agent");
    const start = (extra: string[] = [], agentSha = sha256(AGENT_TEXT)) => {
      const [file, ...args] = rootStartCommand({
        nodePath: process.execPath,
        sourceDir: src,
        agentFile: { name: AGENT, sha256: agentSha },
        addonFile: { name: ADDON, sha256: sha256("addon bytes") },
        rootDir,
      });
      return spawnSync(file ?? "sh", [...args, ...extra], { encoding: "utf8" });
    };
    return { dir, src, rootDir, start };
  }

  test("runs a verified copy in a 0700 root directory, with the agent's arguments", async (t) => {
    const { rootDir, start } = await setup(t);
    const run = start(["--journal", "/x y/j.json"]);
    assert.equal(run.status, 0, run.stderr);
    const said = JSON.parse(run.stdout) as { dir: string; args: string[] };
    assert.equal(said.dir, join(rootDir, `${sha256(AGENT_TEXT)}-${sha256("addon bytes")}`));
    assert.deepEqual(said.args, ["--journal", "/x y/j.json"]);
    assert.equal((await stat(rootDir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(said.dir, AGENT))).uid, 0);
    assert.equal(start().status, 0, "a second start reuses the verified copy");
    assert.deepEqual(await readdir(rootDir), [`${sha256(AGENT_TEXT)}-${sha256("addon bytes")}`]);
  });

  test("a file swapped after the upload is refused and never run", async (t) => {
    const { dir, src, rootDir, start } = await setup(t);
    const marker = join(dir, "pwned");
    await writeFile(join(src, AGENT), evil(marker));
    const run = start();
    assert.equal(run.status, REFUSED_EXIT_CODE);
    assert.match(run.stderr, /refusing to start the agent as root: .* \(their SHA-256 differs\)/);
    assert.equal(existsSync(marker), false, "the swapped file did not run");
    assert.deepEqual(await readdir(rootDir), [], "no copy is kept");
  });

  test("a verified copy that was changed since is replaced by a fresh one", async (t) => {
    const { dir, rootDir, start } = await setup(t);
    assert.equal(start().status, 0);
    const [copy] = await readdir(rootDir);
    const marker = join(dir, "pwned");
    await writeFile(join(rootDir, copy ?? "", AGENT), evil(marker));
    const run = start();
    assert.equal(run.status, 0, run.stderr);
    assert.equal(existsSync(marker), false);
  });

  test("a root directory that is a symlink or not root's is refused", async (t) => {
    const { dir, rootDir, start } = await setup(t);
    await mkdir(join(dir, "elsewhere"));
    await mkdir(join(rootDir, ".."), { recursive: true });
    await symlink(join(dir, "elsewhere"), rootDir);
    const linked = start();
    assert.equal(linked.status, REFUSED_EXIT_CODE);
    assert.match(linked.stderr, /is not a directory owned by root/);
    await rm(rootDir);
    await mkdir(rootDir);
    await chown(rootDir, 65534, 65534);
    const foreign = start();
    assert.equal(foreign.status, REFUSED_EXIT_CODE);
    assert.match(foreign.stderr, /is not a directory owned by root/);
  });

  test("a wrong expected hash is refused", async (t) => {
    const { start } = await setup(t);
    const run = start([], "0".repeat(64));
    assert.equal(run.status, REFUSED_EXIT_CODE);
    assert.equal(run.stdout, "");
  });

  test("a Node.js runtime we brought is run only from root's checked copy; a swapped one is refused", async (t) => {
    const { dir, src, rootDir } = await setup(t);
    // Stands in for the uploaded runtime: hands over to this machine's node.
    const runtimeText = `#!/bin/sh\nexec ${process.execPath} "$@"\n`;
    const runtime = join(src, "node");
    await writeFile(runtime, runtimeText, { mode: 0o755 });
    const start = (nodeSha256: string) => {
      const [file, ...args] = rootStartCommand({
        nodePath: runtime,
        nodeSha256,
        sourceDir: src,
        agentFile: { name: AGENT, sha256: sha256(AGENT_TEXT) },
        addonFile: { name: ADDON, sha256: sha256("addon bytes") },
        rootDir,
      });
      return spawnSync(file ?? "sh", args, { encoding: "utf8" });
    };
    const run = start(sha256(runtimeText));
    assert.equal(run.status, 0, run.stderr);
    const copy = join(rootDir, `node-${sha256(runtimeText)}`, "node");
    assert.equal((await stat(copy)).uid, 0);
    assert.equal((await stat(copy)).mode & 0o777, 0o700);

    const marker = join(dir, "pwned-runtime");
    await writeFile(runtime, `#!/bin/sh\ntouch ${marker}\n`);
    await rm(join(rootDir, `node-${sha256(runtimeText)}`), { recursive: true });
    const swapped = start(sha256(runtimeText));
    assert.equal(swapped.status, REFUSED_EXIT_CODE);
    assert.match(swapped.stderr, /is not the Node\.js runtime that was uploaded \(its SHA-256 differs\)/);
    assert.equal(existsSync(marker), false, "the swapped runtime did not run");
  });
});
