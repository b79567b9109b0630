/**
 * Text from a hostile remote never carries terminal escapes into this computer's output: the CLI
 * (`backhaul connect --verbose`, in L) against the real sshd in R, whose "node" is a stand-in
 * that prints OSC 52 (a clipboard write): in its version for the probe, then on stderr as the
 * agent. The CLI's output must hold the words around it and no ESC or BEL byte.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, connectInHome } from "./cli/command.js";
import { NetnsLab, type ManagedProcess } from "./netns/index.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { TestSshd } from "./sshd/server.js";
import { ADVERTISED, LINK_SUBNET, SSH_LINK } from "./netns/address-plan.js";

const OSC52 = "\\033]52;c;cm0gLXJmIH4=\\007";

const skip =
  sshdSkipReason() ?? (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first");

/** Everything a process wrote on stdout and stderr, as bytes. */
function collect(process: ManagedProcess): () => Buffer {
  const chunks: Buffer[] = [];
  for (const stream of [process.child.stdout, process.child.stderr])
    stream?.on("data", (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

async function until(read: () => Buffer, done: (text: string) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done(read().toString("utf8"))) {
    if (Date.now() > deadline)
      throw new Error(`not seen within ${timeoutMs} ms; output:\n${read().toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function assertNoEscapes(output: Buffer): void {
  assert.equal(
    output.indexOf(0x1b),
    -1,
    `an ESC byte reached the output:\n${JSON.stringify(output.toString())}`,
  );
  assert.equal(output.indexOf(0x07), -1, "a BEL byte reached the output");
  assert.doesNotMatch(output.toString("utf8"), /52;c;/);
}

describe("remote text reaches the CLI's output sanitised", { skip, timeout: 180_000 }, () => {
  const lab = new NetnsLab();
  const home = mkdtempSync(join(tmpdir(), "backhaul-remote-text-"));
  const knownHosts = join(home, "known_hosts");
  let sshd: TestSshd;

  before(async () => {
    sshd = await TestSshd.start(lab);
    writeFileSync(knownHosts, `${(await sshd.knownHostsLines()).ed25519}\n`);
  });
  after(async () => {
    await sshd?.cleanup();
    await lab.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  /** A stand-in for node in bhdev's home (readable by bhdev and root). */
  function stub(name: string, body: string): string {
    const file = join(sshd.users.dev.home, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  }

  const connect = (remoteNode: string): ManagedProcess =>
    sshd.local.spawn(
      "env",
      connectInHome(home, `ssh://bhdev@${SSH_LINK.remote.v4}`, sshd.keys.plain, [
        "--remote-node",
        remoteNode,
        "--link-subnet",
        LINK_SUBNET.network.v4,
        "--route",
        ADVERTISED.v4,
        "--verbose",
      ]),
    );

  test("the probe's values: a node whose version carries OSC 52", async () => {
    const cli = connect(stub("old-node", `printf 'v16.0.0${OSC52}\\n'`));
    const output = collect(cli);
    try {
      await until(output, (text) => /v16\.0\.0/.test(text), 60_000);
      await cli.stop();
      assert.match(output().toString(), /is v16\.0\.0/);
      assertNoEscapes(output());
    } finally {
      await cli.stop();
    }
  });

  test("the agent's stderr: an agent that prints OSC 52", async () => {
    const loud = stub(
      "loud-node",
      `if [ "$1" = --version ]; then echo v20.0.0; exit 0; fi\nprintf 'backhaul agent: hello${OSC52} world\\n' >&2; sleep 1; exit 3`,
    );
    const cli = connect(loud);
    const output = collect(cli);
    try {
      await until(output, (text) => text.includes(" world"), 60_000);
      await cli.stop();
      assertNoEscapes(output());
      assert.match(output().toString(), /backhaul agent: hello world/);
    } finally {
      await cli.stop();
    }
  });
});
