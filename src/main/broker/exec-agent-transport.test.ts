// The exec: transport end to end on this computer: `env HOME=<temp> sh` plays the remote, and a
// stand-in agent (a script, with stand-in addon bytes) is probed for, uploaded through the stream,
// checked, and started. Needs what the probe asks of a remote: root, Linux x64, /dev/net/tun.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { execAgentTransport } from "./exec-agent-transport.js";
import { execTarget } from "./targets/index.js";
import type { ConnectStep } from "../../shared/api.js";

const skip =
  process.getuid?.() !== 0 || process.arch !== "x64" || !existsSync("/dev/net/tun")
    ? "needs root on linux-x64 with /dev/net/tun, as the probe asks of a remote"
    : undefined;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "exec-transport-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A dist/agent folder whose "agent" runs `body`, and a home for the "remote". */
async function lab(name: string, body: string): Promise<{ agentDir: string; home: string }> {
  const agentDir = join(dir, name, "agent");
  const home = join(dir, name, "home");
  await mkdir(agentDir, { recursive: true });
  await mkdir(home);
  await writeFile(join(agentDir, "backhaul-agent.cjs"), body);
  await writeFile(join(agentDir, "backhaul_native.node"), Buffer.from([0, 1, 2, 255, 254, 10, 13]));
  return { agentDir, home };
}

function open(agentDir: string, home: string, steps: ConnectStep[] = [], log: string[] = []) {
  return execAgentTransport({
    target: execTarget(`exec:env HOME=${home} sh`),
    agentDir,
    remoteNode: process.execPath,
    log: (line) => log.push(line),
  })((step) => steps.push(step));
}

test("deploys through the stream and hands it over once the agent speaks", { skip }, async () => {
  const agent = `process.stdout.write("HELLO"); process.stderr.write("agent log\\n"); process.stdin.pipe(process.stdout);`;
  const { agentDir, home } = await lab("speaks", agent);
  const steps: ConnectStep[] = [];
  const log: string[] = [];
  const transport = await open(agentDir, home, steps, log);
  try {
    assert.deepEqual(steps, ["ssh", "upload", "agent"]);
    assert.ok(
      log.some((line) => /^uploaded the agent to /.test(line)),
      log.join("\n"),
    );
    const [cached] = log.flatMap((line) => /^uploaded the agent to (.*)$/.exec(line)?.[1] ?? []);
    assert.equal(await readFile(join(cached ?? "", "backhaul-agent.cjs"), "utf8"), agent);
    const received: Buffer[] = [];
    transport.stream.on("data", (chunk: Buffer) => received.push(chunk));
    transport.stream.write("ping");
    const lines: string[] = [];
    transport.stderr.on("data", (chunk: Buffer) => lines.push(String(chunk)));
    for (let i = 0; i < 100 && Buffer.concat(received).toString() !== "HELLOping"; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(
      Buffer.concat(received).toString(),
      "HELLOping",
      "the first bytes were not lost to the watch",
    );
    assert.deepEqual(lines, ["agent log\n"]);
  } finally {
    transport.close();
    await transport.exited;
  }
  // The second connect finds the files in the cache and uploads nothing.
  const again: string[] = [];
  const second = await open(agentDir, home, [], again);
  second.close();
  await second.exited;
  assert.ok(
    again.some((line) => /is already on/.test(line)),
    again.join("\n"),
  );
});

test("an agent that exits before it speaks: the command and its last stderr lines", { skip }, async () => {
  const { agentDir, home } = await lab("dies", `process.stderr.write("no TUN for you\\n"); process.exit(4);`);
  await assert.rejects(open(agentDir, home), (error: Error) => {
    assert.equal(
      error.message,
      `exec:env HOME=${home} sh exited with code 4 before the agent spoke; its last lines on stderr:\n  no TUN for you`,
    );
    return true;
  });
});
