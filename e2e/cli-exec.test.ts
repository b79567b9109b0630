/**
 * Issue 14, item 2 end to end: `backhaul connect exec:COMMAND` in L, where the command enters R
 * without SSH (`ip netns exec R … sh`), the private network S behind L. Root gets the TUN entrance;
 * a user without sudo gets the clear error of today; a command that fails at once is named with
 * its stderr; a killed command is run again.
 *
 * Each command gives R's shell a private /run (unshare, then a directory of the test's bound over
 * it, as e2e/sshd/server.ts gives sshd a tmpfs): the agent's journal and lock live there, must
 * not be this machine's, and must outlive one run of the command for the next to recover it.
 */
import assert from "node:assert/strict";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { quoteShellArg, shellCommand } from "../src/main/broker/deploy/shell-quote.js";
import { CLI, cliInHome, LINK_SUBNET_OPTIONS } from "./cli/command.js";
import { Cli, descendants } from "./cli/json-cli.js";
import { ZONE } from "./dns/zone.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { netnsSkipReason } from "./netns/preconditions.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { remoteState, sshdForSuite } from "./sshd/private-lab.js";
import { existsSync } from "node:fs";

const MB = 1_000_000;
/** The contract: a disconnect, signal to exit, restores the remote within this. */
const DISCONNECT_MS = 3_000;
/** A user R knows only by number: no passwd entry, so no sudo either. */
const NOBODY_UID = 4242;

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "unshare", "setpriv"] }) ??
  sshdSkipReason() ??
  (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first");

describe("backhaul connect exec:", { skip, timeout: 600_000 }, () => {
  const suite = sshdForSuite("backhaul-cli-exec-home-", async () => {
    before_ = await remoteState(suite.remote);
  });
  let before_: string;
  let rootHome: string;
  let userHome: string;
  let runDir: string;
  before(async () => {
    runDir = await mkdtemp(join(tmpdir(), "backhaul-exec-run-"));
    rootHome = await mkdtemp(join(tmpdir(), "backhaul-exec-root-"));
    userHome = await mkdtemp(join(tmpdir(), "backhaul-exec-user-"));
    await chown(userHome, NOBODY_UID, NOBODY_UID);
  });
  after(async () => {
    await rm(rootHome, { recursive: true, force: true });
    await rm(userHome, { recursive: true, force: true });
    await rm(runDir, { recursive: true, force: true });
  });

  /** The command that gives a shell in R, with a private /run; `as` runs it as another user. */
  const intoR = (home: string, as: string[] = []): string =>
    shellCommand([
      "ip",
      "netns",
      "exec",
      suite.remote.name,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount --bind ${quoteShellArg(runDir)} /run && exec ${shellCommand([...as, "env", `HOME=${home}`, "sh"])}`,
    ]);

  const connect = (command: string): Cli =>
    new Cli(
      suite.local.spawn(
        "env",
        cliInHome(suite.home, [
          "connect",
          `exec:${command}`,
          ...LINK_SUBNET_OPTIONS,
          "--route",
          "198.19.0.0/16",
          "--route",
          "2001:db8:19::/48",
          "--remote-node",
          process.execPath,
          "--json",
        ]),
      ),
    );

  const disconnectsCleanly = async (cli: Cli): Promise<void> => {
    cli.process.child.kill("SIGINT");
    assert.equal((await cli.process.waitForExit(DISCONNECT_MS)).code, 0, cli.describe());
    assert.equal(cli.events.at(-1)?.state, "disconnected", cli.describe());
    assert.equal(
      await remoteState(suite.remote),
      before_,
      `R is exactly as before; events:\n${cli.describe()}`,
    );
  };

  test("as root in R: connected with the TUN entrance, S by name, a killed command is run again", async () => {
    const cli = connect(intoR(rootHome));
    try {
      await cli.until("connected", 90_000);
      const steps = cli.events
        .filter((e) => e.type === "state" && e.state === "connecting")
        .map((e) => e.step);
      for (const step of ["upload", "agent", "routes", "dns"])
        assert.ok(steps.includes(step), steps.join(","));
      assert.ok(
        existsSync(join(rootHome, ".cache/backhaul/agent")),
        "the agent was uploaded through the stream",
      );
      const tun = await suite.remote.runChecked("ip", ["-o", "link", "show", "type", "tun"]);
      assert.match(tun.stdout, /bh/, "the TUN entrance is up in R");
      assert.equal(
        await downloadSha256(suite.remote, `www.${ZONE}`, 10 * MB),
        sha256(deterministicBytes(10 * MB)),
      );

      // The command's process (exec'd into the agent) dies: the command runs again, and the new
      // agent undoes what the killed one left.
      const agent = descendants(cli.process.child.pid ?? 0).find(
        ({ argv }) => /node$/.test(argv[0] ?? "") && argv.some((arg) => arg.endsWith("backhaul-agent.cjs")),
      );
      assert.ok(agent, `the agent runs under the CLI:\n${cli.describe()}`);
      const mark = cli.events.length;
      process.kill(agent.pid, "SIGKILL");
      await cli.until("reconnecting", 30_000, mark);
      await cli.until("connected", 90_000, mark);
      assert.ok(
        cli.events.slice(mark).some((e) => e.type === "log" && /running exec:/.test(e.line ?? "")),
        "the command ran again",
      );
      assert.ok(
        cli.events.slice(mark).some((e) => e.type === "log" && /previous run/.test(e.line ?? "")),
        `the new agent undid what the killed one left:\n${cli.describe()}`,
      );
      assert.equal(
        await downloadSha256(suite.remote, `www.${ZONE}`, 1 * MB),
        sha256(deterministicBytes(1 * MB)),
      );
      await disconnectsCleanly(cli);
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("as a user without sudo in R: connected with the proxy entrance, which reaches S by name", async () => {
    const as = ["setpriv", `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, "--clear-groups"];
    const cli = connect(intoR(userHome, as));
    try {
      await cli.until("connected", 90_000);
      const logs = cli.events.flatMap((e) => (e.type === "log" && e.line ? [e.line] : []));
      assert.ok(
        logs.some((line) => /^proxy entrance: /.test(line)),
        `says it took the proxy entrance and why:\n${cli.describe()}`,
      );
      // As that user in R, through the settings the agent wrote for it: socks5h, so S's name is
      // resolved by this computer's DNS engine.
      const envFile = join(userHome, ".config", "backhaul", "proxy.env");
      const fetched = await suite.remote.runChecked(
        "setpriv",
        [
          ...as.slice(1),
          "env",
          `HOME=${userHome}`,
          "sh",
          "-c",
          `. ${quoteShellArg(envFile)} && curl -sS --fail -m 60 http://www.${ZONE}/bytes/${MB} | sha256sum`,
        ],
        { timeoutMs: 70_000 },
      );
      assert.equal(fetched.stdout.split(" ")[0], sha256(deterministicBytes(MB)), cli.describe());
      await disconnectsCleanly(cli);
      assert.equal(existsSync(envFile), false, "proxy.env is gone after Ctrl+C");
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("a command that fails at once: a clear error within 15 s, naming it and its stderr", async () => {
    const command = `sh -c ${quoteShellArg("echo nope >&2; exit 3")}`;
    const cli = connect(command);
    try {
      const exit = await cli.process.waitForExit(15_000);
      assert.equal(exit.code, 1, cli.describe());
      const error = cli.events.find((e) => e.type === "error")?.message ?? "";
      assert.ok(error.includes(`exec:${command} exited with code 3 before the agent started`), error);
      assert.match(error, /its last lines on stderr:\n {2}nope$/);
    } finally {
      await cli.process.stop(15_000);
    }
  });
});
