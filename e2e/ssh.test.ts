/**
 * connectSsh and deployAgent against a real OpenSSH server (issue #5): sshd runs in namespace R
 * (e2e/sshd/server.ts), the client in L through e2e/sshd/driver.ts. Key files, ssh-agent,
 * passphrases, known_hosts (unknown, accepted, changed, hashed), unreachable hosts and wrong keys
 * within 15 s, ProxyCommand and ProxyJump; then the agent's upload (once per version), its start
 * through the returned command, and the probe's refusals.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { FrameType } from "../src/shared/link-protocol.js";
import { NetnsLab, spawnManaged, runChecked, type ManagedProcess } from "./netns/index.js";
import { SshDriver } from "./sshd/driver-client.js";
import type { DriverReply, WireConnectOptions } from "./sshd/driver-protocol.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { PASSPHRASE, TestSshd } from "./sshd/server.js";
import { SSH_LINK } from "./netns/address-plan.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const skip = sshdSkipReason();
const AGENT_DIST = join(ROOT, "dist", "agent");
const FAIL_WITHIN_MS = 15_000;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPES = /\u001b|\u0007|52;c;/;
const agentSkip = ["backhaul-agent.cjs", "backhaul_native.node"].every((name) =>
  existsSync(join(AGENT_DIST, name)),
)
  ? undefined
  : "dist/agent is missing: run `npm run build` first";

function describeReply(reply: DriverReply): string {
  return JSON.stringify(reply, null, 2);
}

function assertOk(reply: DriverReply): void {
  assert.equal(reply.error, undefined, `expected success: ${describeReply(reply)}`);
}

function assertError(reply: DriverReply, name: string, message?: RegExp): string {
  assert.ok(reply.error, `expected ${name}: ${describeReply(reply)}`);
  assert.equal(reply.error.name, name, reply.error.message);
  if (message) assert.match(reply.error.message, message);
  return reply.error.message;
}

describe("SSH against a real sshd", { skip, timeout: 300_000 }, () => {
  const lab = new NetnsLab();
  let sshd: TestSshd;
  let driver: SshDriver;
  let dir: string;
  let knownHostsCount = 0;
  const processes: ManagedProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "backhaul-ssh-test-"));
    sshd = await TestSshd.start(lab);
    await mkdir(join(dir, "home"), { mode: 0o700 });
    driver = SshDriver.start(sshd.local, join(dir, "home"));
  });

  after(async () => {
    const steps = [
      () => driver?.stop(),
      ...processes.map((process) => () => process.stop()),
      () => sshd?.cleanup(),
      () => lab.cleanup(),
      () => rm(dir, { recursive: true, force: true }),
    ];
    const errors: unknown[] = [];
    for (const step of steps) await Promise.resolve(step()).catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw new AggregateError(errors, "SSH test cleanup was incomplete");
  });

  /** A fresh known_hosts file holding `lines`. */
  async function knownHosts(...lines: string[]): Promise<string> {
    const file = join(dir, `known_hosts.${++knownHostsCount}`);
    await writeFile(file, lines.map((line) => `${line}\n`).join(""), { mode: 0o600 });
    return file;
  }

  async function options(overrides: Partial<WireConnectOptions> = {}): Promise<WireConnectOptions> {
    return {
      host: SSH_LINK.remote.v4,
      port: 22,
      username: sshd.users.dev.name,
      identityFiles: [sshd.keys.plain],
      agentSocket: null,
      knownHostsFiles: [await knownHosts((await sshd.knownHostsLines()).ed25519)],
      hostKeyPolicy: "strict",
      ...overrides,
    };
  }

  async function run(opts: WireConnectOptions, command = "id -un"): Promise<DriverReply> {
    return driver.request({ op: "connect", options: opts, command });
  }

  test("the harness: OpenSSH's client logs in, and sudo -n works for bhdev only", async () => {
    const dev = await sshd.sshWithOpenSsh(sshd.users.dev, "sudo -n id -u");
    assert.equal(dev.code, 0, `${dev.stderr}\n${sshd.output}`);
    assert.equal(dev.stdout.trim(), "0");
    const noPassword = await sshd.sshWithOpenSsh(sshd.users.noPasswordSudo, "sudo -n id -u");
    assert.notEqual(noPassword.code, 0);
    assert.match(noPassword.stderr, /password is required/);
  });

  test("key auth from an identity file, with the host key known", async () => {
    const reply = await run(await options());
    assertOk(reply);
    assert.equal(reply.output?.stdout.trim(), "bhdev");
    assert.equal(reply.remoteAddress, SSH_LINK.remote.v4);
    assert.deepEqual(reply.prompts, []);
    assert.ok(
      reply.logs.some((line) => line.includes("aes128-gcm@openssh.com")),
      `aes128-gcm is negotiated first: ${reply.logs.join("; ")}`,
    );
  });

  test("key auth through a real ssh-agent, and its keys listed when refused", async () => {
    const startAgent = async (name: string, key: string): Promise<string> => {
      const socket = join(dir, `${name}.sock`);
      const agent = spawnManaged("ssh-agent", ["-D", "-a", socket]);
      processes.push(agent);
      for (let i = 0; i < 50; i++) {
        if (await stat(socket).catch(() => undefined)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await runChecked("ssh-add", ["-q", key], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      return socket;
    };
    const good = await startAgent("agent-good", sshd.keys.plain);
    const reply = await run(await options({ agentSocket: good, identityFiles: [] }));
    assertOk(reply);
    assert.equal(reply.output?.stdout.trim(), "bhdev");

    const wrong = await startAgent("agent-wrong", sshd.keys.stranger);
    const refused = await run(await options({ agentSocket: wrong, identityFiles: [] }));
    assertError(
      refused,
      "AuthFailedError",
      /ssh-agent \(.*agent-wrong\.sock\): refused by the server: stranger@backhaul-test/,
    );
  });

  test("a passphrase-protected key: asked again after a wrong passphrase", async () => {
    const reply = await run(
      await options({ identityFiles: [sshd.keys.encrypted], passphrases: ["not it", PASSPHRASE] }),
    );
    assertOk(reply);
    assert.deepEqual(reply.prompts, [
      { kind: "passphrase", file: sshd.keys.encrypted },
      { kind: "passphrase", file: sshd.keys.encrypted },
    ]);
  });

  test("three wrong passphrases: refused, saying so", async () => {
    const reply = await run(
      await options({ identityFiles: [sshd.keys.encrypted], passphrases: ["a", "b", "c", "d"] }),
    );
    assertError(reply, "AuthFailedError", /id_encrypted: wrong passphrase \(3 tries\)/);
    assert.equal(reply.prompts.length, 3);
  });

  test("an unknown host key is refused under strict and when the user says no", async () => {
    const strict = await run(await options({ knownHostsFiles: [await knownHosts()] }));
    assertError(strict, "HostKeyUnknownError", /198\.18\.1\.1 is not known \(ssh-ed25519 SHA256:/);
    assert.equal(strict.error?.code, "HOST_KEY_UNKNOWN");

    const file = await knownHosts();
    const declined = await run(await options({ knownHostsFiles: [file], confirmNewHostKey: false }));
    assertError(declined, "HostKeyUnknownError", /you did not accept it/);
    assert.equal(declined.prompts[0]?.kind, "host-key");
    assert.equal(await readFile(file, "utf8"), "", "nothing recorded");
  });

  test("accept-new (or the user's yes) records the key; the next strict connect trusts it", async () => {
    const expected = (await sshd.knownHostsLines()).ed25519;
    for (const how of [{ hostKeyPolicy: "accept-new" as const }, { confirmNewHostKey: true }]) {
      const file = join(dir, `accepted-${knownHostsCount++}`, "known_hosts");
      assertOk(await run(await options({ knownHostsFiles: [file], ...how })));
      assert.equal(await readFile(file, "utf8"), `${expected}\n`);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assertOk(await run(await options({ knownHostsFiles: [file] })));
    }
  });

  test("a recorded ECDSA key is asked for even though the server prefers Ed25519; hashed lines work", async () => {
    const { ecdsa, ed25519 } = await sshd.knownHostsLines();
    assertOk(await run(await options({ knownHostsFiles: [await knownHosts(ecdsa)] })));
    const hashed = await knownHosts(ed25519);
    await runChecked("ssh-keygen", ["-H", "-f", hashed]);
    assert.match(await readFile(hashed, "utf8"), /^\|1\|/);
    assertOk(await run(await options({ knownHostsFiles: [hashed] })));
  });

  test("HostKeyAlias looks the key up under the alias; policy off skips known_hosts", async () => {
    const [, keyType, key] = (await sshd.knownHostsLines()).ed25519.split(" ");
    const aliased = await knownHosts(`devbox.test ${keyType} ${key}`);
    assertOk(await run(await options({ knownHostsFiles: [aliased], hostKeyAlias: "devbox.test" })));
    assertError(await run(await options({ knownHostsFiles: [aliased] })), "HostKeyUnknownError");

    const untouched = await knownHosts();
    assertOk(await run(await options({ knownHostsFiles: [untouched], hostKeyPolicy: "off" })));
    assert.equal(await readFile(untouched, "utf8"), "", "policy off records nothing");
  });

  test("ProxyCommand and ProxyJump", async () => {
    const proxied = await run(await options({ proxyCommand: "nc %h %p" }));
    assertOk(proxied);
    assert.equal(proxied.output?.stdout.trim(), "bhdev");

    const broken = await run(await options({ proxyCommand: "echo 'no such codespace' >&2; exit 3" }));
    assertError(broken, "UnreachableError", /ProxyCommand .* exited \(code 3\); it said: no such codespace/);

    const jumped = await run(await options({ proxyJump: `bhdev@${SSH_LINK.remote.v4}:22` }));
    assertOk(jumped);
    assert.equal(jumped.output?.stdout.trim(), "bhdev");
  });

  test("unreachable hosts fail within 15 s with UnreachableError", async () => {
    const cases = [
      { host: SSH_LINK.blackhole, port: 22, message: /no answer within 10 s/ },
      { host: SSH_LINK.remote.v4, port: 2222, message: /refused/ },
      { host: "198.19.255.1", port: 22, message: /no route/ },
    ];
    for (const { host, port, message } of cases) {
      const reply = await run(await options({ host, port }));
      assertError(reply, "UnreachableError", message);
      assert.match(reply.error?.message ?? "", new RegExp(`sshd runs on port ${port}`));
      assert.ok(reply.elapsedMs < FAIL_WITHIN_MS, `${host}:${port} took ${reply.elapsedMs} ms`);
    }
  });

  test("a wrong key fails within 15 s with AuthFailedError saying what was tried", async () => {
    const reply = await run(await options({ identityFiles: [sshd.keys.stranger] }));
    const message = assertError(reply, "AuthFailedError");
    assert.ok(reply.elapsedMs < FAIL_WITHIN_MS, `took ${reply.elapsedMs} ms`);
    assert.match(message, /bhdev@198\.18\.1\.1 did not accept any of our keys/);
    assert.match(message, /id_stranger: refused by the server/);
    assert.match(message, /The server accepts: publickey/);
    assert.match(message, /ssh-add/);
  });

  describe("deployAgent", { skip: agentSkip }, () => {
    let agentFile: string;
    let addonFile: string;
    const version = "0.0.0-test";

    before(async () => {
      // Copies: a concurrent `npm run build` empties dist/ while it works.
      agentFile = join(dir, "backhaul-agent.cjs");
      addonFile = join(dir, "backhaul_native.node");
      await copyFile(join(AGENT_DIST, "backhaul-agent.cjs"), agentFile);
      await copyFile(join(AGENT_DIST, "backhaul_native.node"), addonFile);
    });

    test("uploads the first time, not the second; the command starts the agent, which says HELLO", async () => {
      const deploy = { agentFile, addonFile, version };
      const first = await driver.request({ op: "deploy", options: await options(), deploy });
      assertOk(first);
      const deployed = first.deployed!;
      assert.equal(deployed.uploaded, true);
      assert.equal(deployed.arch, "x64");
      const home = sshd.users.dev.home;
      assert.match(
        deployed.remoteDir,
        new RegExp(`^${home}/\\.cache/backhaul/agent/0\\.0\\.0-test-[0-9a-f]{16}$`),
      );
      // sudo runs the script that copies, verifies and runs the agent as root (root-start.ts).
      assert.match(deployed.command, /^sudo -n sh -c '/);
      assert.ok(
        deployed.command.endsWith(` ${deployed.remoteDir} /usr/bin/node -`),
        `the cache and node (the remote's own: no hash to check) are its arguments: ${deployed.command}`,
      );
      // R shares this machine's file system: check what landed there directly.
      assert.equal((await stat(deployed.remoteDir)).mode & 0o777, 0o700);
      assert.equal((await stat(deployed.remoteDir)).uid, sshd.users.dev.uid);
      assert.deepEqual(
        await readFile(join(deployed.remoteDir, "backhaul-agent.cjs")),
        await readFile(agentFile),
      );
      assert.deepEqual(
        await readFile(join(deployed.remoteDir, "backhaul_native.node")),
        await readFile(addonFile),
      );
      assert.deepEqual((await readdir(deployed.remoteDir)).sort(), [
        "backhaul-agent.cjs",
        "backhaul_native.node",
      ]);

      const journal = join(dir, "agent-journal.json");
      const second = await driver.request({
        op: "deploy",
        options: await options(),
        deploy,
        startWithArgs: ["--journal", journal],
      });
      assertOk(second);
      assert.equal(second.deployed?.uploaded, false, "same version, same bytes: nothing uploaded");
      assert.equal(second.deployed?.remoteDir, deployed.remoteDir);
      assert.equal(second.agent?.frameType, FrameType.Hello, `agent stderr: ${second.agent?.stderr}`);
      assert.equal(second.agent?.hello?.role, "entrance");
      assert.equal(second.agent?.hello?.version, 1);

      // The channel closed: the agent saw its link end and left nothing running in R.
      let leftovers = await sshd.sessionPids();
      for (let i = 0; i < 50 && leftovers.length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        leftovers = await sshd.sessionPids();
      }
      assert.deepEqual(leftovers, [], "processes left in R after the channel closed");
    });

    test("a changed file is uploaded again, into a new directory", async () => {
      const changed = join(dir, "backhaul-agent-changed.cjs");
      await writeFile(changed, `${await readFile(agentFile, "utf8")}\n// changed\n`);
      const reply = await driver.request({
        op: "deploy",
        options: await options(),
        deploy: { agentFile: changed, addonFile, version },
      });
      assertOk(reply);
      assert.equal(reply.deployed?.uploaded, true);
    });

    test("sudo that wants a password, and nobody to ask it: refused, with no sudoers line that would give all of root", async () => {
      const reply = await driver.request({
        op: "deploy",
        options: await options({ username: sshd.users.noPasswordSudo.name }),
        deploy: { agentFile, addonFile, version },
      });
      assertError(reply, "RemoteNotReadyError", /sudo asks bhnopw for a password/);
      assert.deepEqual(reply.error?.problems, ["SUDO_NEEDS_PASSWORD"]);
      assert.match(
        reply.error?.message ?? "",
        /nobody to ask: connect from a terminal, or pass --sudo-password-stdin.*check its SHA-256 and run it as root/,
      );
      assert.doesNotMatch(reply.error?.message ?? "", /NOPASSWD/);
    });

    test("an agent swapped in the user's cache after the upload is refused by root, never run", async () => {
      const marker = join(dir, "swapped-agent-ran");
      // Bytes root has not verified before: no earlier verified copy can stand in for them.
      const fresh = join(dir, "backhaul-agent-fresh.cjs");
      await writeFile(fresh, `${await readFile(agentFile, "utf8")}\n// not started before\n`);
      const reply = await driver.request({
        op: "deploy",
        options: await options(),
        deploy: { agentFile: fresh, addonFile, version },
        startWithArgs: ["--journal", join(dir, "swap-journal.json")],
        // What any process of bhdev could do between the upload (or the probe) and sudo.
        replaceBeforeStart: {
          file: "backhaul-agent.cjs",
          content: `require("fs").writeFileSync(${JSON.stringify(marker)}, String(process.getuid()));\n`,
        },
      });
      assertError(reply, "Error", /the agent exited before its first frame/);
      assert.match(
        reply.error?.message ?? "",
        /refusing to start the agent as root: .*\(their SHA-256 differs\): they were changed after the upload/,
      );
      assert.equal(existsSync(marker), false, "the swapped file did not run");
    });

    test("escape sequences the remote prints (probe values, agent stderr) never reach this computer's output", async () => {
      // Stand-ins for node in bhdev's home: one too old, with OSC 52 (clipboard write) in its
      // version; one that passes the probe, then, run as the agent, prints OSC 52 on stderr.
      const home = sshd.users.dev.home;
      const osc52 = "\\033]52;c;cm0gLXJmIH4=\\007";
      const stub = async (name: string, body: string): Promise<string> => {
        const file = join(home, name);
        await writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        return file;
      };
      const oldNode = await stub("old-node", `printf 'v16.0.0${osc52}\\n'`);
      const probed = await driver.request({
        op: "deploy",
        options: await options(),
        deploy: { agentFile, addonFile, version, remoteNode: oldNode },
      });
      assertError(probed, "RemoteNotReadyError", /is v16\.0\.0/);
      assert.doesNotMatch(probed.error?.message ?? "", ESCAPES);

      const loudNode = await stub(
        "loud-node",
        `if [ "$1" = --version ]; then echo v20.0.0; exit 0; fi\nprintf 'backhaul agent: hello${osc52} world\\n' >&2; exit 3`,
      );
      const transported = await driver.request({
        op: "transport",
        options: await options(),
        agentDir: dir,
        remoteNode: loudNode,
      });
      assertOk(transported);
      assert.equal(transported.transportStderr, "backhaul agent: hello world\n");
    });

    test("a remote Node.js path that does not exist is refused", async () => {
      const reply = await driver.request({
        op: "deploy",
        options: await options(),
        deploy: { agentFile, addonFile, version, remoteNode: "/opt/no-such-node/bin/node" },
      });
      assertError(reply, "RemoteNotReadyError", /Node\.js was not found at \/opt\/no-such-node\/bin\/node/);
      assert.deepEqual(reply.error?.problems, ["NODE_MISSING"]);
      assert.match(reply.error?.message ?? "", /--remote-node PATH/);
    });
  });

  test("a server offering only RSA while an Ed25519 key is recorded: refused under accept-new, nothing appended", async () => {
    const { ed25519, rsa } = await sshd.knownHostsLines();
    await sshd.restartOffering(["rsa"]);
    try {
      const file = await knownHosts(ed25519);
      const reply = await run(
        await options({ knownHostsFiles: [file], hostKeyPolicy: "accept-new", confirmNewHostKey: true }),
      );
      const message = assertError(reply, "HostKeyOtherTypeError");
      const [, , ed25519Key] = ed25519.split(" ");
      const [, , rsaKey] = rsa.split(" ");
      const fingerprint = (base64 = ""): string =>
        `SHA256:${createHash("sha256").update(Buffer.from(base64, "base64")).digest("base64").replace(/=+$/, "")}`;
      assert.ok(
        message.includes(`the host has a key of another type on record: ED25519 ${fingerprint(ed25519Key)}`),
        message,
      );
      assert.ok(message.includes(`the server now offers RSA ${fingerprint(rsaKey)}`), message);
      assert.deepEqual(reply.prompts, [], "not offered to the user as a new key");
      assert.equal(await readFile(file, "utf8"), `${ed25519}\n`, "known_hosts untouched");

      // The same key recorded only in the global file counts too; nothing is written anywhere.
      const global = await knownHosts(ed25519);
      const user = join(dir, "never-created", "known_hosts");
      const viaGlobal = await run(
        await options({
          knownHostsFiles: [user],
          globalKnownHostsFiles: [global],
          hostKeyPolicy: "accept-new",
        }),
      );
      assertError(viaGlobal, "HostKeyOtherTypeError", /on record: ED25519/);
      assert.equal(existsSync(user), false, "the user's file was not created");
      assert.equal(await readFile(global, "utf8"), `${ed25519}\n`, "the global file is never written");

      // A host with no key on record is still new: accept-new records the RSA key.
      const fresh = join(dir, "fresh-rsa", "known_hosts");
      assertOk(
        await run(
          await options({ knownHostsFiles: [fresh], globalKnownHostsFiles: [], hostKeyPolicy: "accept-new" }),
        ),
      );
      assert.equal(await readFile(fresh, "utf8"), `${rsa}\n`);
    } finally {
      await sshd.restartOffering();
    }
  });

  // Last: it replaces the server's host keys.
  test("a changed host key is refused loudly, naming the file and line", async () => {
    const old = (await sshd.knownHostsLines()).ed25519;
    await sshd.restartWithNewHostKeys();
    const file = await knownHosts("# ours", old);
    const reply = await run(
      await options({ knownHostsFiles: [file], hostKeyPolicy: "accept-new", confirmNewHostKey: true }),
    );
    const message = assertError(reply, "HostKeyChangedError");
    assert.match(message, /WARNING: THE HOST KEY OF 198\.18\.1\.1 HAS CHANGED/);
    assert.match(message, new RegExp(`${file} line 2`));
    assert.match(message, /man-in-the-middle/);
    assert.match(message, new RegExp(`ssh-keygen -R '198\\.18\\.1\\.1' -f '${file}'`));
    assert.deepEqual(reply.prompts, [], "a changed key is never offered to the user");
    assert.equal(await readFile(file, "utf8"), `# ours\n${old}\n`, "known_hosts untouched");
  });
});
