/**
 * Issue 14, item 2 end to end: `backhaul connect exec:COMMAND` in L, where the command enters R
 * without SSH (`ip netns exec R … sh`), the private network S behind L. Root gets the TUN entrance;
 * a user without sudo gets the proxy entrance; a user whose sudo wants a password gets the TUN
 * entrance with --sudo-password-stdin; a user sudo refuses after the password gets the proxy
 * entrance, the command run again; a command that fails at once is named with its stderr; a killed
 * command is run again.
 *
 * The sudo users exist only inside the command's mount namespace: copies of /etc/passwd, group,
 * shadow and sudoers with them appended (e2e/sshd/accounts.ts) are bound over the real ones there,
 * as R's test sshd does.
 *
 * Each command gives R's shell a private /run (unshare, then a directory of the test's bound over
 * it, as e2e/sshd/server.ts gives sshd a tmpfs): the agent's journal and lock live there, must
 * not be this machine's, and must outlive one run of the command for the next to recover it.
 */
import assert from "node:assert/strict";
import { chmod, chown, copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { quoteShellArg } from "../src/main/broker/deploy/shell-quote.js";
import { cliInHome, LINK_SUBNET_OPTIONS, privateRunShell, sshCliSkipReason } from "./cli/command.js";
import { Cli, descendants } from "./cli/json-cli.js";
import { ZONE } from "./dns/zone.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { remoteState, sshdForSuite } from "./sshd/private-lab.js";
import { createAccounts, type AccountFiles, type TestUser } from "./sshd/accounts.js";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const UDP_CLIENT = new URL("./proxy/socks-udp-client.mjs", import.meta.url).pathname;

const MB = 1_000_000;
/** The contract: a disconnect, signal to exit, restores the remote within this. */
const DISCONNECT_MS = 3_000;
/** A user R knows only by number: no passwd entry, so no sudo either. */
const NOBODY_UID = 4242;
/** The sudo users' password; unusual enough that no other test's could match. */
const EXEC_SUDO_PASSWORD = "bh-exec-sudo-Vt4-harbour-20731";

const skip = sshCliSkipReason(["ip", "curl", "unshare", "setpriv", "sudo", "openssl"]);

describe("backhaul connect exec:", { skip, timeout: 600_000 }, () => {
  const suite = sshdForSuite("backhaul-cli-exec-home-", async () => {
    before_ = await remoteState(suite.remote);
  });
  let before_: string;
  let rootHome: string;
  let userHome: string;
  let runDir: string;
  let accountsDir: string;
  let accounts: { files: AccountFiles; passwordSudo: TestUser; refusedSudo: TestUser };
  before(async () => {
    runDir = await mkdtemp(join(tmpdir(), "backhaul-exec-run-"));
    accountsDir = await mkdtemp(join(tmpdir(), "backhaul-exec-accounts-"));
    await chmod(accountsDir, 0o755); // the users walk down to their homes
    const created = await createAccounts(accountsDir, [
      { name: "bhexpw", sudo: "password", password: EXEC_SUDO_PASSWORD },
      // Not in sudoers, with a password: sudo takes it, then refuses the user.
      { name: "bhexdeny", sudo: "none", password: EXEC_SUDO_PASSWORD },
    ]);
    const [passwordSudo, refusedSudo] = created.users;
    if (!passwordSudo || !refusedSudo) throw new Error("the sudo users were not created");
    accounts = { files: created.files, passwordSudo, refusedSudo };
    rootHome = await mkdtemp(join(tmpdir(), "backhaul-exec-root-"));
    userHome = await mkdtemp(join(tmpdir(), "backhaul-exec-user-"));
    await chown(userHome, NOBODY_UID, NOBODY_UID);
  });
  after(async () => {
    await rm(rootHome, { recursive: true, force: true });
    await rm(userHome, { recursive: true, force: true });
    await rm(runDir, { recursive: true, force: true });
    await rm(accountsDir, { recursive: true, force: true });
  });

  /** The command that gives a shell in R, with a private /run; `as` runs it as another user. */
  const intoR = (home: string, as: string[] = []): string =>
    privateRunShell(suite.remote.name, runDir, [...as, "env", `HOME=${home}`, "sh"]);

  /** Into R as `user`, with the test's accounts (and so its sudoers) in place in that namespace. */
  const intoRAsSudoUser = (user: TestUser): string => {
    const { files } = accounts;
    const as = ["setpriv", `--reuid=${user.uid}`, `--regid=${user.uid}`, "--init-groups"];
    return privateRunShell(
      suite.remote.name,
      runDir,
      [...as, "env", `HOME=${user.home}`, `USER=${user.name}`, "sh"],
      [
        [files.passwd, "/etc/passwd"],
        [files.group, "/etc/group"],
        [files.shadow, "/etc/shadow"],
        [files.sudoers, "/etc/sudoers"],
      ],
    );
  };

  /**
   * As user `uid` in R, through the settings the agent wrote for it in `home`: socks5h, so S's name
   * is resolved by this computer's DNS engine. 1 MB from S arrives intact; the settings file is returned.
   */
  const fetchesThroughProxyEnv = async (cli: Cli, uid: number, home: string): Promise<string> => {
    const envFile = join(home, ".config", "backhaul", "proxy.env");
    const fetched = await withProxyEnv(
      uid,
      home,
      `curl -sS --fail -m 60 http://www.${ZONE}/bytes/${MB} | sha256sum`,
      70_000,
    );
    assert.equal(fetched.code, 0, `${fetched.stderr}\n${cli.describe()}`);
    assert.equal(fetched.stdout.split(" ")[0], sha256(deterministicBytes(MB)), cli.describe());
    return envFile;
  };

  /** `command` run in R as user `uid`, with the proxy settings the agent wrote in `home` sourced. */
  const withProxyEnv = (uid: number, home: string, command: string, timeoutMs: number) =>
    suite.remote.run(
      "setpriv",
      [
        `--reuid=${uid}`,
        `--regid=${uid}`,
        "--clear-groups",
        "env",
        `HOME=${home}`,
        "sh",
        "-c",
        `. ${quoteShellArg(join(home, ".config", "backhaul", "proxy.env"))} && ${command}`,
      ],
      { timeoutMs },
    );

  const connect = (command: string, extra: readonly string[] = []): Cli =>
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
          ...extra,
        ]),
      ),
    );

  /** Connects into R as `user`, its sudo password given on stdin. */
  const connectWithSudoPassword = (user: TestUser): Cli => {
    const cli = connect(intoRAsSudoUser(user), ["--sudo-password-stdin"]);
    cli.process.child.stdin?.end(`${EXEC_SUDO_PASSWORD}\n`);
    return cli;
  };

  /** R reaches S by name: `size` bytes from S's web server arrive intact. */
  const reachesS = async (size: number): Promise<void> =>
    assert.equal(await downloadSha256(suite.remote, `www.${ZONE}`, size), sha256(deterministicBytes(size)));

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
      await reachesS(10 * MB);

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
      await reachesS(1 * MB);
      await disconnectsCleanly(cli);
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("as a user without sudo in R: connected with the proxy entrance, which reaches S by name (in the DNS table with --dns off too)", async () => {
    const as = ["setpriv", `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, "--clear-groups"];
    const cli = connect(intoR(userHome, as), ["--dns", "off"]);
    try {
      await cli.until("connected", 90_000);
      const logs = cli.events.flatMap((e) => (e.type === "log" && e.line ? [e.line] : []));
      assert.ok(
        logs.some((line) => /^proxy entrance: /.test(line)),
        `says it took the proxy entrance and why:\n${cli.describe()}`,
      );
      const envFile = await fetchesThroughProxyEnv(cli, NOBODY_UID, userHome);
      // UDP ASSOCIATE to a name: resolved at the link's stub, which answers with --dns off too.
      const udpClient = join(userHome, "socks-udp-client.mjs");
      await copyFile(UDP_CLIENT, udpClient);
      await chmod(udpClient, 0o644);
      const udp = await withProxyEnv(
        NOBODY_UID,
        userHome,
        `node ${quoteShellArg(udpClient)} host.${ZONE} 7 hello-off`,
        30_000,
      );
      assert.equal(udp.code, 0, `${udp.stderr}\n${cli.describe()}`);
      assert.deepEqual(JSON.parse(udp.stdout), { reply: "hello-off" });
      // --dns off leaves R's resolver alone, but the name the proxy was given is a DNS table row
      // (tables reach the CLI in batches: it may come a moment later).
      const inDnsTable = (): boolean =>
        cli.events.some((e) => e.type === "dns" && "name" in e && e.name === `www.${ZONE}`);
      for (let waited = 0; !inDnsTable() && waited < 10_000; waited += 100) await sleep(100);
      assert.ok(inDnsTable(), `the proxy's lookup of www.${ZONE} is in the DNS table:\n${cli.describe()}`);
      await disconnectsCleanly(cli);
      assert.equal(existsSync(envFile), false, "proxy.env is gone after Ctrl+C");
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("as a user whose sudo wants a password, given on stdin: connected with the TUN entrance", async () => {
    const cli = connectWithSudoPassword(accounts.passwordSudo);
    try {
      await cli.until("connected", 90_000);
      const tun = await suite.remote.runChecked("ip", ["-o", "link", "show", "type", "tun"]);
      assert.match(tun.stdout, /bh/, `the TUN entrance is up in R:\n${cli.describe()}`);
      assert.ok(
        !cli.events.some((e) => e.type === "log" && /^proxy entrance: /.test(e.line ?? "")),
        cli.describe(),
      );
      assert.ok(!JSON.stringify(cli.events).includes(EXEC_SUDO_PASSWORD), "the password is in no output");
      await reachesS(1 * MB);
      await disconnectsCleanly(cli);
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("sudo refuses the user after its password: the command runs again, with the proxy entrance", async () => {
    const user = accounts.refusedSudo;
    const cli = connectWithSudoPassword(user);
    try {
      await cli.until("connected", 90_000);
      const logs = cli.events.flatMap((e) => (e.type === "log" && e.line ? [e.line] : []));
      assert.ok(
        logs.some((line) => /^proxy entrance: sudo on .* did not start the agent/.test(line)),
        `says why it took the proxy entrance:\n${cli.describe()}`,
      );
      assert.ok(
        logs.some((line) => /^running exec:.* again, for the proxy entrance/.test(line)),
        `says the command runs again:\n${cli.describe()}`,
      );
      // The steps show it: the command's step comes again after the agent's.
      const steps = cli.events
        .filter((e) => e.type === "state" && e.state === "connecting")
        .map((e) => e.step);
      const firstAgent = steps.indexOf("agent");
      assert.ok(firstAgent >= 0 && steps.indexOf("ssh", firstAgent) > firstAgent, steps.join(","));
      const envFile = await fetchesThroughProxyEnv(cli, user.uid, user.home);
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
