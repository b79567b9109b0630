/**
 * Issue #12, sudo that asks for a password: `backhaul connect` in L as bhxpw, whose sudo on R
 * wants SUDO_PASSWORD (real OpenSSH, real sudo with PAM, e2e/sshd/server.ts). The password comes
 * from --sudo-password-stdin, or typed at the prompt on a real pseudo-terminal (python3's pty
 * module drives the CLI); a wrong one is one sentence within 15 s; it is never in a process's
 * command line or environment, in the output, or in a file.
 *
 *   R 198.18.1.1 (sshd, the agent) — L 198.18.1.2 (the CLI) — S 198.19.1.10 (HTTP)
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CLI, connectInHome, LINK_SUBNET_OPTIONS } from "./cli/command.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { findOnPath, type ManagedProcess } from "./netns/index.js";
import { readJsonLines } from "./netns/json-lines.js";
import { netnsSkipReason } from "./netns/preconditions.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { sshdForSuite } from "./sshd/private-lab.js";
import { SUDO_PASSWORD } from "./sshd/server.js";
import { CORP_NET, SSH_LINK } from "./netns/address-plan.js";

const MB = 1_000_000;
const FAIL_WITHIN_MS = 15_000;
const DISCONNECT_MS = 3_000;
/** sudo's own words, which must never reach the output: its prompt (ours, via -p) and its lecture. */
const SUDO_NOISE = [/\[backhaul: sudo password\]/, /usual lecture/, /Sorry, try again/];

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl"] }) ??
  sshdSkipReason() ??
  (findOnPath("python3") ? undefined : "python3 is not installed (it drives the pseudo-terminal)") ??
  (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first");

/**
 * Runs argv on a new pseudo-terminal: what the program writes there goes to stdout, stdin is
 * typed into it, SIGTERM and SIGINT are passed on, and the program's exit code is ours.
 */
const PTY_DRIVER = `
import os, pty, select, signal, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda s, f: os.kill(pid, signal.SIGINT))
inputs = [fd, 0]
while True:
    try:
        ready, _, _ = select.select(inputs, [], [])
    except InterruptedError:
        continue
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(fd, data)
        else:
            inputs.remove(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

interface Event {
  type: string;
  state?: string;
  message?: string;
  line?: string;
}

/** Every process whose command line or environment holds `secret`, as "PID/file". */
function processesHolding(secret: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    for (const file of ["cmdline", "environ"]) {
      try {
        if (readFileSync(`/proc/${pid}/${file}`).includes(secret)) found.push(`${pid}/${file}`);
      } catch {
        // gone meanwhile, or a kernel thread
      }
    }
  }
  return found;
}

/** Every file under `dir` that holds `secret`. */
function filesHolding(dir: string, secret: string): string[] {
  const found: string[] = [];
  const visit = (path: string): void => {
    let stats;
    try {
      stats = statSync(path, { throwIfNoEntry: false });
    } catch {
      return;
    }
    if (!stats) return;
    if (stats.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (stats.isFile() && readFileSync(path).includes(secret)) found.push(path);
  };
  visit(dir);
  return found;
}

describe("backhaul connect when sudo asks for a password", { skip, timeout: 300_000 }, () => {
  const suite = sshdForSuite("backhaul-sudo-pw-home-");
  const { home } = suite;

  const connectArgs = (extra: string[]): string[] =>
    connectInHome(home, `ssh://bhxpw@${SSH_LINK.remote.v4}`, suite.sshd.keys.plain, [
      "--accept-new-host-key",
      ...LINK_SUBNET_OPTIONS,
      "--route",
      "198.19.0.0/16",
      ...extra,
    ]);

  /** `backhaul connect --json --sudo-password-stdin`, with `password` on its stdin. */
  const connectWithStdin = (password: string): { process: ManagedProcess; events: Event[] } => {
    const child = suite.local.spawn("env", connectArgs(["--json", "--sudo-password-stdin"]));
    const events: Event[] = [];
    readJsonLines(
      child.child.stdout,
      (value) => events.push(value as unknown as Event),
      (line) => events.push({ type: "garbage", line }),
    );
    child.child.stdin?.end(`${password}\n`);
    return { process: child, events };
  };

  const until = async (test: () => boolean, what: string, timeoutMs: number, describe: () => string) => {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const download = (bytes: number): Promise<string> =>
    downloadSha256(suite.remote, CORP_NET.host.v4, bytes, 60);

  /** PIDs in R of the agent (node running backhaul-agent.cjs). */
  const agentPids = async (): Promise<number[]> =>
    (await suite.sshd.sessionPids()).filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return /node$/.test(argv[0] ?? "") && argv.some((arg) => arg.endsWith("backhaul-agent.cjs"));
      } catch {
        return false;
      }
    });

  test("the harness: bhxpw's sudo wants the password, and sudo -S takes only its line from stdin", async () => {
    const refused = await suite.sshd.sshWithOpenSsh(suite.sshd.users.passwordSudo, "sudo -n id -u");
    assert.match(refused.stderr, /password is required/);
    // The agent's link follows the password on the same stdin: sudo must not read past its line.
    // (Here only, the password is on a command line: this checks sudo, not Backhaul.)
    const accepted = await suite.sshd.sshWithOpenSsh(
      suite.sshd.users.passwordSudo,
      `printf '%s\\nlink bytes\\n' '${SUDO_PASSWORD}' | sudo -S -p '' sh -c 'id -u; cat'`,
    );
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.stdout, "0\nlink bytes\n");
  });

  test("--sudo-password-stdin: connected, curl works, a reconnect asks nothing; the password is nowhere", async () => {
    const cli = connectWithStdin(SUDO_PASSWORD);
    const describe = (): string => cli.events.map((e) => JSON.stringify(e)).join("\n");
    const connected =
      (from = 0) =>
      () =>
        cli.events.some((e, i) => i >= from && e.type === "state" && e.state === "connected");
    try {
      await until(connected(), "connected", 90_000, describe);
      assert.equal(await download(MB), sha256(deterministicBytes(MB)));
      assert.deepEqual(processesHolding(SUDO_PASSWORD), [], "no command line or environment holds it");

      // A reconnect (the agent killed) starts sudo again with the held password: stdin is spent.
      const [agent] = await agentPids();
      assert.ok(agent, "the agent runs in R as root");
      const mark = cli.events.length;
      process.kill(agent, "SIGKILL");
      await until(connected(mark), "a second connected", 90_000, describe);
      assert.equal(await download(MB), sha256(deterministicBytes(MB)), "traffic flows again");

      cli.process.child.kill("SIGINT");
      assert.equal((await cli.process.waitForExit(DISCONNECT_MS)).code, 0, describe());
      const output = describe();
      assert.ok(!output.includes(SUDO_PASSWORD), "the output does not hold it");
      for (const noise of SUDO_NOISE) assert.doesNotMatch(output, noise);
      assert.deepEqual(filesHolding(home, SUDO_PASSWORD), [], "no file of the CLI's holds it");
      assert.deepEqual(filesHolding(suite.sshd.dir, SUDO_PASSWORD), [], "no file on the remote holds it");
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("a wrong password: one sentence, within 15 s, not a loop", async () => {
    const started = Date.now();
    const cli = connectWithStdin("not the password");
    const exit = await cli.process.waitForExit(FAIL_WITHIN_MS + 5_000);
    const elapsed = Date.now() - started;
    const describe = cli.events.map((e) => JSON.stringify(e)).join("\n");
    assert.equal(exit.code, 1, describe);
    assert.ok(elapsed < FAIL_WITHIN_MS, `took ${elapsed} ms`);
    const errors = cli.events.filter((e) => e.type === "error");
    assert.equal(errors.length, 1, describe);
    assert.match(
      errors[0]?.message ?? "",
      /^sudo on bhxpw@198\.18\.1\.1 refused the password \(it said: Sorry, try again\.\)\.$/,
    );
    assert.ok(!cli.events.some((e) => e.state === "reconnecting"), `never retried:\n${describe}`);
    assert.ok(!describe.includes("not the password"));
    assert.deepEqual(await agentPids(), [], "nothing runs as the agent");
  });

  test("--entrance tun, no terminal and no --sudo-password-stdin: one sentence saying what to pass", async () => {
    // (In auto, the default, this remote gets the proxy entrance instead: e2e/cli-proxy-entrance.test.ts.)
    const child = suite.local.spawn("env", connectArgs(["--json", "--entrance", "tun"]));
    const events: Event[] = [];
    readJsonLines(child.child.stdout, (value) => events.push(value as unknown as Event));
    const exit = await child.waitForExit(FAIL_WITHIN_MS);
    assert.equal(exit.code, 1);
    const errors = events.filter((e) => e.type === "error");
    assert.deepEqual(
      errors.map((e) => e.message),
      [
        "sudo on bhxpw@198.18.1.1 needs a password, and there is no terminal to ask it on: pass --sudo-password-stdin.",
      ],
    );
  });

  test("typed at the prompt on a real terminal: connected", async () => {
    const driver = suite.local.spawn("python3", ["-c", PTY_DRIVER, "env", ...connectArgs([])]);
    let output = "";
    driver.child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const describe = (): string => output;
    try {
      await until(
        () => /sudo password for bhxpw@198\.18\.1\.1: $/.test(output),
        "the prompt",
        60_000,
        describe,
      );
      driver.child.stdin?.write(`${SUDO_PASSWORD}\r`);
      await until(() => /^connected\b/m.test(output), "connected", 60_000, describe);
      assert.equal(await download(MB), sha256(deterministicBytes(MB)));
      assert.deepEqual(processesHolding(SUDO_PASSWORD), []);
      driver.child.kill("SIGTERM");
      assert.equal((await driver.waitForExit(DISCONNECT_MS + 2_000)).code, 0, output);
      assert.ok(!output.includes(SUDO_PASSWORD), "not echoed, not logged");
      for (const noise of SUDO_NOISE) assert.doesNotMatch(output, noise);
      // The line follows the flow count's status line, which it clears (CR, ESC [2K) when one was drawn.
      assert.match(output.replaceAll("\r\x1b[2K", "\n"), /^disconnected: the remote is restored\b/m);
    } finally {
      await driver.stop(15_000);
    }
  });
});
