// A second OpenSSH server, in namespace L, for the peers that connect the other way round (sshuttle
// and `ssh -w` both start in R and log in to L as root, by key; `ssh -w` needs PermitTunnel).
// Like e2e/sshd/server.ts it runs in a private mount namespace: a tmpfs over /run gives sshd its
// privilege separation directory, and one over /var/log would take the wtmp/lastlog records of a
// session with a tty, so none of this machine's own files change. Keys live in our temporary directory.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runChecked, type ManagedProcess, type NetworkNamespace } from "../../netns/index.js";
import { quoteShellArg as q } from "../../../src/main/broker/deploy/shell-quote.js";
import { SERVICE_PORTS, SSH_LINK } from "../../netns/address-plan.js";

export interface RootSshd {
  address: string;
  /** The client's private key, authorized for root. */
  key: string;
  /** Holds this server's host key: clients check it strictly. */
  knownHosts: string;
  process: ManagedProcess;
}

/** OpenSSH client options for R -> L: nothing of this machine's ~/.ssh, config or agent is used. */
export function sshClientOptions(sshd: RootSshd): string[] {
  return [
    "-F",
    "/dev/null",
    "-i",
    sshd.key,
    ...["-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes"],
    ...["-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null"],
    ...["-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10"],
    // The cipher Backhaul negotiates (ssh2 with AES-NI), so the rows differ in design, not cipher.
    ...["-c", "aes128-gcm@openssh.com"],
  ];
}

function config(dir: string): string {
  return [
    `ListenAddress ${SSH_LINK.local.v4}:${SERVICE_PORTS.ssh}`,
    `HostKey ${join(dir, "ssh_host_ed25519_key")}`,
    "PidFile none",
    "UsePAM no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "AllowUsers root",
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    // The key file's parents include /tmp (mode 1777), which StrictModes refuses.
    "StrictModes no",
    "PermitTunnel yes",
    "PrintMotd no",
    "PrintLastLog no",
    "LogLevel INFO",
    "",
  ].join("\n");
}

function startScript(dir: string): string {
  return [
    "set -e",
    "mount -t tmpfs -o mode=0755 backhaul-bench-run /run",
    "mount -t tmpfs -o mode=0755 backhaul-bench-log /var/log",
    "mkdir -m 0755 /run/sshd",
    `exec /usr/sbin/sshd -D -e -f ${q(join(dir, "sshd_config"))}`,
    "",
  ].join("\n");
}

function waitForListening(process: ManagedProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`L's sshd did not listen:\n${seen}`)), timeoutMs);
    process.child.stderr?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(`Server listening on ${SSH_LINK.local.v4} port ${SERVICE_PORTS.ssh}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void process.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`L's sshd exited:\n${seen}`));
    });
  });
}

/** Starts sshd in `local` with its files under `parent`; the namespace's lab stops it. */
export async function startRootSshd(local: NetworkNamespace, parent: string): Promise<RootSshd> {
  const dir = join(parent, "root-sshd");
  await mkdir(dir, { mode: 0o700 });
  const keygen = (file: string): Promise<unknown> =>
    runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "backhaul-bench", "-f", file]);
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const key = join(dir, "id_client");
  await keygen(hostKey);
  await keygen(key);
  await writeFile(join(dir, "authorized_keys"), await readFile(`${key}.pub`), { mode: 0o600 });
  const [type, body] = (await readFile(`${hostKey}.pub`, "utf8")).split(" ");
  const knownHosts = join(dir, "known_hosts");
  await writeFile(knownHosts, `${SSH_LINK.local.v4} ${type} ${body}\n`);
  await writeFile(join(dir, "sshd_config"), config(dir));
  await writeFile(join(dir, "start-sshd.sh"), startScript(dir));
  const script = join(dir, "start-sshd.sh");
  const process = local.spawn("unshare", ["--mount", "--propagation", "private", "sh", script]);
  await waitForListening(process, 10_000);
  return { address: SSH_LINK.local.v4, key, knownHosts, process };
}
