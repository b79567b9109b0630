// The stream shell against a real `sh` child process: the protocol, uploads of every byte value,
// the hash check that refuses altered bytes, and the hand-over of the stream to the agent.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { uploadVerified } from "../deploy/upload-verified.js";
import { ShellExitedError, StreamShell } from "./stream-shell.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "stream-shell-"));
});
after(() => rm(dir, { recursive: true, force: true }));

function spawnShell(argv = ["sh"], env: NodeJS.ProcessEnv = process.env) {
  const [command = "sh", ...args] = argv;
  return spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env });
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

test("runs commands one at a time with their own output and exit code", async () => {
  const child = spawnShell();
  const shell = await StreamShell.open(child, "exec:sh", 10_000);
  try {
    const first = await shell.run("echo out; echo err >&2; exit 3", 10_000);
    assert.deepEqual(first, { code: 3, stdout: "out\n", stderr: "err\n" });
    const second = await shell.run("printf 'no newline'", 10_000);
    assert.deepEqual(second, { code: 0, stdout: "no newline", stderr: "" });
    // Concurrent calls queue; neither sees the other's output.
    const [x, y] = await Promise.all([shell.run("echo x", 10_000), shell.run("echo y; false", 10_000)]);
    assert.deepEqual([x.stdout, x.code, y.stdout, y.code], ["x\n", 0, "y\n", 1]);
    // A command that reads stdin gets /dev/null, not the next command.
    const reader = await shell.run("cat; echo after", 10_000);
    assert.equal(reader.stdout, "after\n");
    // `exit` and `set -e` stay inside the command's subshell.
    await shell.run("set -e; exit 7", 10_000);
    assert.equal((await shell.run("echo alive", 10_000)).stdout, "alive\n");
  } finally {
    child.kill();
  }
});

test("a banner before the shell answers is dropped", async () => {
  const child = spawnShell(["sh", "-c", "echo 'Welcome to devpod'; echo motd >&2; exec sh"]);
  const shell = await StreamShell.open(child, "exec:banner", 10_000);
  try {
    assert.deepEqual(await shell.run("echo hi", 10_000), { code: 0, stdout: "hi\n", stderr: "" });
  } finally {
    child.kill();
  }
});

test("uploads every byte value intact, across chunks, with the mode asked for", async () => {
  const child = spawnShell();
  const shell = await StreamShell.open(child, "exec:sh", 10_000);
  try {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const bytes = Buffer.concat([every, randomBytes(2 * 1024 * 1024 + 17), every.reverse()]);
    const local = join(dir, "random.bin");
    await writeFile(local, bytes);
    const remote = join(dir, "uploaded.bin");
    const progress: number[] = [];
    await uploadVerified(shell, {
      localPath: local,
      remotePath: remote,
      mode: 0o700,
      sha256: sha256(bytes),
      onProgress: (sent) => progress.push(sent),
    });
    assert.ok((await readFile(remote)).equals(bytes));
    assert.equal((await stat(remote)).mode & 0o777, 0o700);
    assert.ok(progress.length >= 3, "more than one chunk");
    assert.equal(progress.at(-1), bytes.length);
    // An empty file is a file too.
    await writeFile(join(dir, "empty"), "");
    await uploadVerified(shell, {
      localPath: join(dir, "empty"),
      remotePath: join(dir, "empty.up"),
      mode: 0o600,
      sha256: sha256(Buffer.alloc(0)),
    });
    assert.equal((await stat(join(dir, "empty.up"))).size, 0);
  } finally {
    child.kill();
  }
});

test("an upload whose SHA-256 differs is refused and removed; the old file stays", async () => {
  const child = spawnShell();
  const shell = await StreamShell.open(child, "exec:sh", 10_000);
  try {
    const local = join(dir, "agent.cjs");
    await writeFile(local, "console.log('agent')\n");
    const remote = join(dir, "kept.cjs");
    await writeFile(remote, "the old one\n");
    await assert.rejects(
      uploadVerified(shell, { localPath: local, remotePath: remote, mode: 0o600, sha256: "0".repeat(64) }),
      /kept\.cjs on exec:sh does not match what was uploaded \(its SHA-256 is [0-9a-f]{64}\)/,
    );
    assert.equal(await readFile(remote, "utf8"), "the old one\n");
    const listing = await shell.run(`ls -a ${dir}`, 10_000);
    assert.doesNotMatch(listing.stdout, /\.tmp/);
  } finally {
    child.kill();
  }
});

test("without sha256sum, the upload is checked by the Node.js given", async () => {
  const bin = join(dir, "bin");
  await mkdir(bin);
  for (const tool of ["base64", "chmod", "mv", "rm", "cut", "cat"]) {
    const found = execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
    await symlink(found.trim(), join(bin, tool));
  }
  const child = spawnShell(["/bin/sh"], { PATH: bin });
  const shell = await StreamShell.open(child, "exec:sh", 10_000);
  try {
    assert.notEqual((await shell.run("command -v sha256sum", 10_000)).code, 0);
    const bytes = randomBytes(1000);
    await writeFile(join(dir, "n.bin"), bytes);
    const request = { localPath: join(dir, "n.bin"), mode: 0o600, node: process.execPath };
    await uploadVerified(shell, { ...request, remotePath: join(dir, "n.up"), sha256: sha256(bytes) });
    assert.ok((await readFile(join(dir, "n.up"))).equals(bytes));
    await assert.rejects(
      uploadVerified(shell, { ...request, remotePath: join(dir, "n.bad"), sha256: "f".repeat(64) }),
      /does not match/,
    );
  } finally {
    child.kill();
  }
});

test("a command that exits at once is named, with its last stderr lines", async () => {
  const child = spawnShell(["sh", "-c", "echo first >&2; echo nope >&2; exit 3"]);
  await assert.rejects(StreamShell.open(child, "exec:sh -c 'echo nope >&2; exit 3'", 10_000), (error) => {
    assert.ok(error instanceof ShellExitedError);
    assert.match(
      error.message,
      /^exec:sh -c 'echo nope >&2; exit 3' exited with code 3 before the agent started; its last lines on stderr:\n {2}first\n {2}nope$/,
    );
    return true;
  });
});

test("a command that is no shell (it echoes what it is sent) is refused in time", async () => {
  const child = spawnShell(["cat"]);
  await assert.rejects(
    StreamShell.open(child, "exec:cat", 1_500),
    /exec:cat did not answer as a POSIX shell on its standard output \(with -t for a terminal it cannot: use -i alone\) within 2 s/,
  );
});

test("a command that cannot be run says so", async () => {
  const child = spawnShell(["/nonexistent/kubectl"]);
  await assert.rejects(
    StreamShell.open(child, "exec:/nonexistent/kubectl", 10_000),
    /cannot run exec:\/nonexistent\/kubectl: .*ENOENT/,
  );
});

test("startAgent hands the stream over: what the agent writes is the link, byte for byte", async () => {
  const child = spawnShell();
  const shell = await StreamShell.open(child, "exec:sh", 10_000);
  // The "agent" greets first (as Link's HELLO), then echoes.
  const agent = await shell.startAgent(`sh -c 'printf hello; echo started >&2; exec cat'`);
  const received: Buffer[] = [];
  agent.stream.on("data", (chunk: Buffer) => received.push(chunk));
  const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  agent.stream.write(payload);
  const stderr: Buffer[] = [];
  agent.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (Buffer.concat(received).length >= 5 + payload.length) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
  assert.ok(Buffer.concat(received).equals(Buffer.concat([Buffer.from("hello"), payload])));
  await assert.rejects(shell.run("echo no", 1_000), /runs the agent now/);
  agent.close();
  const code = await Promise.race([
    agent.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("close() did not end it")), 10_000)),
  ]);
  assert.ok(code === null || code === 0, `ended by close(), exit code ${String(code)}`);
  assert.equal(Buffer.concat(stderr).toString(), "started\n");
});
