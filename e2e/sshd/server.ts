// A real OpenSSH server for the SSH tests, inside a namespace R it cannot leave:
//
//   L SSH_LINK.local ── veth ── R SSH_LINK.remote: sshd on port 22 (e2e/netns/address-plan.ts)
//
// sshd runs as `ip netns exec R unshare --mount --propagation private sh -c '<bind mounts>; exec
// sshd -D -e -f CONFIG'`: in its private mount namespace, copies of /etc/passwd, group, shadow
// and sudoers with our test users are bind-mounted over the real ones (accounts.ts), and a tmpfs
// covers /run (sshd's privilege separation directory, sudo's timestamps). Sessions inherit that
// namespace, so they see the users and sudo works there, while this machine's own files stay as
// they are. Host keys, client keys and homes live in one temporary directory.
import { realpathSync } from "node:fs";
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  runChecked,
  runCommand,
  type CommandResult,
  type ManagedProcess,
  type NetnsLab,
  type NetworkNamespace,
} from "../netns/index.js";
import { quoteShellArg as q } from "../../src/main/broker/deploy/shell-quote.js";
import { onNetwork, SERVICE_PORTS, SSH_LINK } from "../netns/address-plan.js";
import { createAccounts, type AccountFiles, type TestUser } from "./accounts.js";

export const PASSPHRASE = "correct horse battery staple";
/** bhxpw's password, which sudo asks for; unusual enough to grep for in /proc and files. */
export const SUDO_PASSWORD = "bh-sudo-Qx7-lantern-98431";

/**
 * The Node.js that R's SSH sessions see: this machine's ("own"), none ("hidden": an empty, not
 * executable file is bind-mounted over the binary), or a stand-in that says v16.0.0 ("v16").
 */
export type RemoteNodeKind = "own" | "hidden" | "v16";

export interface ClientKeys {
  /** Authorized for every test user. */
  plain: string;
  /** Authorized for bhdev; encrypted with PASSPHRASE. */
  encrypted: string;
  /** Authorized nowhere. */
  stranger: string;
}

const HOST_KEY_TYPES = ["ed25519", "ecdsa", "rsa"] as const;
type HostKeyType = (typeof HOST_KEY_TYPES)[number];
/** What sshd offers unless a test restricts it. */
const DEFAULT_OFFERED: readonly HostKeyType[] = ["ed25519", "ecdsa"];

async function keygen(file: string, type: string, comment: string, passphrase = ""): Promise<void> {
  await runChecked("ssh-keygen", ["-q", "-t", type, "-N", passphrase, "-C", comment, "-f", file]);
}

async function waitForLine(process: ManagedProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  const stderr = process.child.stderr;
  if (!stderr) throw new Error("sshd has no stderr pipe");
  let seen = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`sshd did not say ${pattern} within ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString("utf8");
      if (pattern.test(seen)) finish();
    };
    const onExit = (): void => finish(new Error(`sshd exited before it listened:\n${seen}`));
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      stderr.off("data", onData);
      process.child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    };
    stderr.on("data", onData);
    process.child.once("exit", onExit);
  });
}

export class TestSshd {
  private process: ManagedProcess | undefined;
  private log = "";
  private accounts: readonly TestUser[] = [];
  private accountFiles: AccountFiles | undefined;

  private constructor(
    readonly dir: string,
    readonly remote: NetworkNamespace,
    readonly local: NetworkNamespace,
    /**
     * bhdev: passwordless sudo. bhnopw: sudo wants a password it has not. bhxpw: sudo wants
     * SUDO_PASSWORD. bhnosudo: not in sudoers (the proxy entrance's user).
     */
    readonly users: { dev: TestUser; noPasswordSudo: TestUser; passwordSudo: TestUser; noSudo: TestUser },
    readonly keys: ClientKeys,
  ) {}

  /** Builds R and L in `lab` (whose cleanup deletes them) and starts sshd in R. */
  static async start(lab: NetnsLab): Promise<TestSshd> {
    const dir = await mkdtemp(join(tmpdir(), "backhaul-sshd-"));
    try {
      return await TestSshd.build(lab, dir);
    } catch (error) {
      // The lab removes the namespaces and stops sshd if it started; the files are ours to remove.
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private static async build(lab: NetnsLab, dir: string): Promise<TestSshd> {
    // The test users must be able to walk down to their homes.
    await chmod(dir, 0o755);
    const remote = await lab.createNamespace("sshr");
    const local = await lab.createNamespace("sshl");
    await lab.addVethPair(remote, local, {
      addressesA: onNetwork(SSH_LINK.network, SSH_LINK.remote),
      addressesB: onNetwork(SSH_LINK.network, SSH_LINK.local),
    });
    await remote.runChecked("sysctl", ["-q", "-w", "net.ipv4.ip_forward=0"]);
    await local.ip(["route", "add", `${SSH_LINK.blackhole}/32`, "via", SSH_LINK.remote.v4]);

    const { users, files } = await createAccounts(dir, [
      { name: "bhdev", sudo: "nopasswd" },
      { name: "bhnopw", sudo: "password" },
      { name: "bhxpw", sudo: "password", password: SUDO_PASSWORD },
      { name: "bhnosudo", sudo: "none" },
    ]);
    const [dev, noPasswordSudo, passwordSudo, noSudo] = users;
    if (!dev || !noPasswordSudo || !passwordSudo || !noSudo) throw new Error("test users were not created");

    const clientDir = join(dir, "client");
    await runChecked("mkdir", ["-m", "0700", clientDir]);
    const keys: ClientKeys = {
      plain: join(clientDir, "id_plain"),
      encrypted: join(clientDir, "id_encrypted"),
      stranger: join(clientDir, "id_stranger"),
    };
    await keygen(keys.plain, "ed25519", "plain@backhaul-test");
    await keygen(keys.encrypted, "ed25519", "encrypted@backhaul-test", PASSPHRASE);
    await keygen(keys.stranger, "ed25519", "stranger@backhaul-test");
    const publicLine = async (key: string): Promise<string> => (await readFile(`${key}.pub`, "utf8")).trim();
    await authorize(dev, [await publicLine(keys.plain), await publicLine(keys.encrypted)]);
    await authorize(noPasswordSudo, [await publicLine(keys.plain)]);
    await authorize(passwordSudo, [await publicLine(keys.plain)]);
    await authorize(noSudo, [await publicLine(keys.plain)]);

    const sshd = new TestSshd(dir, remote, local, { dev, noPasswordSudo, passwordSudo, noSudo }, keys);
    await runChecked("mkdir", ["-m", "0700", join(dir, "host")]);
    await sshd.generateHostKeys();
    sshd.accounts = users;
    sshd.accountFiles = files;
    await writeFile(join(dir, "sshd_config"), sshdConfig(dir, users, DEFAULT_OFFERED));
    await writeFile(join(dir, "node-hidden"), "", { mode: 0o644 });
    await writeFile(join(dir, "node-v16"), "#!/bin/sh\necho v16.0.0\n", { mode: 0o755 });
    await writeFile(join(dir, "start-sshd.sh"), startScript(dir, files, "own"));
    await sshd.startDaemon();
    return sshd;
  }

  /** Restarts sshd so that its sessions see this Node.js (RemoteNodeKind). */
  async restartWithNode(kind: RemoteNodeKind): Promise<void> {
    if (!this.accountFiles) throw new Error("sshd was not built");
    await this.stopDaemon();
    await writeFile(join(this.dir, "start-sshd.sh"), startScript(this.dir, this.accountFiles, kind));
    await this.startDaemon();
  }

  /** known_hosts lines for the current host keys, e.g. `198.18.1.1 ssh-ed25519 AAAA…`. */
  async knownHostsLines(name = SSH_LINK.remote.v4): Promise<Record<HostKeyType, string>> {
    const line = async (type: string): Promise<string> => {
      const [keyType, key] = (
        await readFile(join(this.dir, "host", `ssh_host_${type}_key.pub`), "utf8")
      ).split(" ");
      return `${name} ${keyType} ${key}`;
    };
    return { ed25519: await line("ed25519"), ecdsa: await line("ecdsa"), rsa: await line("rsa") };
  }

  /** Restarts sshd offering only these host key types (all but RSA by default). */
  async restartOffering(types: readonly HostKeyType[] = DEFAULT_OFFERED): Promise<void> {
    await this.stopDaemon();
    await writeFile(join(this.dir, "sshd_config"), sshdConfig(this.dir, this.accounts, types));
    await this.startDaemon();
  }

  /** The server's stderr so far (sshd -e logs there): for assertion messages. */
  get output(): string {
    return this.log;
  }

  /** Stops sshd, replaces its host keys, starts it again: a server whose key "changed". */
  async restartWithNewHostKeys(): Promise<void> {
    await this.stopDaemon();
    await this.generateHostKeys();
    await this.startDaemon();
  }

  /** Runs a command as `user` with OpenSSH's own client, from L: checks the harness, not our code. */
  async sshWithOpenSsh(user: TestUser, command: string): Promise<CommandResult> {
    const knownHosts = join(this.dir, "openssh_known_hosts");
    await writeFile(knownHosts, `${(await this.knownHostsLines()).ed25519}\n`);
    return this.local.run(
      "ssh",
      [
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=10",
        "-i",
        this.keys.plain,
        `${user.name}@${SSH_LINK.remote.v4}`,
        command,
      ],
      { timeoutMs: 20_000 },
    );
  }

  /** Stops sshd and every process still in R (sessions outlive the listener), then removes the files. */
  async cleanup(): Promise<void> {
    await this.stopDaemon();
    await this.stopSessions();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** PIDs of processes in R other than the listening sshd: sessions, and what they started. */
  async sessionPids(): Promise<number[]> {
    const result = await runCommand("ip", ["netns", "pids", this.remote.name]);
    return result.stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid !== this.process?.pid);
  }

  private async stopSessions(): Promise<void> {
    // Everything in R was started by this harness (R is ours): stop it by PID.
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      const pids = await this.sessionPids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private async generateHostKeys(): Promise<void> {
    for (const type of HOST_KEY_TYPES) {
      const file = join(this.dir, "host", `ssh_host_${type}_key`);
      await rm(file, { force: true });
      await rm(`${file}.pub`, { force: true });
      await keygen(file, type, `host-${type}@backhaul-test`);
    }
  }

  private async startDaemon(): Promise<void> {
    const script = join(this.dir, "start-sshd.sh");
    const process = this.remote.spawn("unshare", ["--mount", "--propagation", "private", "sh", script]);
    this.process = process;
    process.child.stderr?.on("data", (chunk: Buffer) => (this.log += chunk.toString("utf8")));
    await waitForLine(
      process,
      new RegExp(
        `Server listening on ${SSH_LINK.remote.v4.replaceAll(".", "\\.")} port ${SERVICE_PORTS.ssh}`,
      ),
      10_000,
    );
  }

  private async stopDaemon(): Promise<void> {
    await this.process?.stop();
    this.process = undefined;
  }
}

async function authorize(user: TestUser, lines: readonly string[]): Promise<void> {
  const file = join(user.home, ".ssh", "authorized_keys");
  await writeFile(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  await chown(file, user.uid, user.uid);
}

function sshdConfig(dir: string, users: readonly TestUser[], offered: readonly HostKeyType[]): string {
  return [
    `ListenAddress ${SSH_LINK.remote.v4}:${SERVICE_PORTS.ssh}`,
    ...offered.map((type) => `HostKey ${join(dir, "host", `ssh_host_${type}_key`)}`),
    "PidFile none",
    "UsePAM no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin no",
    `AllowUsers ${users.map((user) => user.name).join(" ")}`,
    "AuthorizedKeysFile .ssh/authorized_keys",
    "StrictModes yes",
    "AllowTcpForwarding yes",
    "Subsystem sftp internal-sftp",
    "MaxStartups 100",
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

function startScript(dir: string, files: AccountFiles, node: RemoteNodeKind): string {
  const binary = realpathSync(process.execPath);
  return [
    "set -e",
    ...(node === "own" ? [] : [`mount --bind ${q(join(dir, `node-${node}`))} ${q(binary)}`]),
    `mount --bind ${q(files.passwd)} /etc/passwd`,
    `mount --bind ${q(files.group)} /etc/group`,
    `mount --bind ${q(files.shadow)} /etc/shadow`,
    `mount --bind ${q(files.sudoers)} /etc/sudoers`,
    "mount -t tmpfs -o mode=0755 backhaul-test-run /run",
    "mkdir -m 0755 /run/sshd",
    `exec /usr/sbin/sshd -D -e -f ${q(join(dir, "sshd_config"))}`,
    "",
  ].join("\n");
}
