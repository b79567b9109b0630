// systemd-resolved in R, for the suite of split DNS on a remote that runs it: never installed on
// this machine (the package's postinst would rewrite this machine's /etc/resolv.conf), but fetched
// with `apt-get download` into the checkout's .cache/ and unpacked there with `dpkg-deb -x`.
//
// It runs outside systemd the way its unit would start it: as root, dropping to its user
// systemd-resolve itself (ExecStart=!!), with a D-Bus system bus of its own. Both live only in R's
// network namespace and in a private mount namespace where the test's directories are bound over
// /run (the bus socket, /run/systemd/resolve, a resolved.conf.d drop-in) and over /etc/passwd and
// /etc/group (copies with the user added): this machine's /run/dbus and /run/systemd are never
// touched. The bus is that namespace's first process; everything else enters it with nsenter.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { quoteShellArg } from "../../src/main/broker/deploy/shell-quote.js";
import {
  findOnPath,
  runCommand,
  spawnManaged,
  type CommandResult,
  type ManagedProcess,
  type NetworkNamespace,
} from "../netns/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const CACHE = join(ROOT, ".cache", "systemd-resolved");
const UNPACKED = join(CACHE, "root");
const DAEMON = join(UNPACKED, "lib", "systemd", "systemd-resolved");
/** The package's own resolvectl: this machine has none, and the agent runs it from the PATH. */
export const RESOLVECTL_DIR = join(UNPACKED, "usr", "bin");
const BUS_POLICY = join(UNPACKED, "usr", "share", "dbus-1", "system.d", "org.freedesktop.resolve1.conf");
/** resolved's user, in the mount namespace's copy of /etc/passwd only; an id no account here has. */
const RESOLVE_ID = 4753;

function text(result: CommandResult): string {
  return `${result.stdout}${result.stderr}`.trim();
}

/**
 * The unpacked package (downloaded once into .cache/), or why it cannot be had: no apt, no
 * mirror, or a daemon that does not start here (its libsystemd-shared comes from this machine's
 * systemd package, which must be the same major version).
 */
export async function unpackedResolved(): Promise<string | undefined> {
  // The agent asks the bus, with busctl, which network namespace resolved runs in.
  if (!findOnPath("busctl")) return "`busctl` is not installed (Debian package systemd)";
  for (const tool of ["apt-get", "dpkg-deb"])
    if (!findOnPath(tool))
      return `\`${tool}\` is not installed: systemd-resolved is fetched from Debian's mirror`;
  if (!existsSync(DAEMON)) {
    mkdirSync(CACHE, { recursive: true });
    chmodSync(CACHE, 0o755); // apt's sandbox user writes the download here
    const download = await runCommand("apt-get", ["download", "systemd-resolved"], {
      cwd: CACHE,
      timeoutMs: 90_000,
    }).catch((error: unknown): CommandResult => ({
      code: null,
      signal: null,
      stdout: "",
      stderr: String(error),
      timedOut: false,
    }));
    const deb = readdirSync(CACHE).find((file) => /^systemd-resolved_.*\.deb$/.test(file));
    if (deb === undefined) return `\`apt-get download systemd-resolved\` fetched nothing: ${text(download)}`;
    const unpack = await runCommand("dpkg-deb", ["-x", join(CACHE, deb), UNPACKED], { timeoutMs: 60_000 });
    if (unpack.code !== 0 || !existsSync(DAEMON)) return `\`dpkg-deb -x ${deb}\` failed: ${text(unpack)}`;
  }
  const version = spawnSync(DAEMON, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (version.status !== 0)
    return `the downloaded systemd-resolved does not run here (its libsystemd-shared?): ${version.stderr}`;
  return undefined;
}

/** The bus's configuration: the system bus's default policy, and resolved's policy from the package. */
function busConfig(): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>${BUS_POLICY}</include>
</busconfig>
`;
}

/** resolved's settings: Q as its only server, nothing it would send elsewhere, no cache. */
function resolvedConf(server: string): string {
  // No cache: each lookup goes to a server, so the latency measured is the path's, not memory's.
  return [
    "[Resolve]",
    `DNS=${server}`,
    "FallbackDNS=",
    "LLMNR=no",
    "MulticastDNS=no",
    "DNSSEC=no",
    "DNSOverTLS=no",
    "Cache=no",
    "ReadEtcHosts=no",
    "",
  ].join("\n");
}

export class ResolvedInNamespace {
  private constructor(
    private readonly bus: ManagedProcess,
    private readonly daemon: ManagedProcess,
    /** dbus-daemon's PID: R's network namespace and the private mount namespace, to enter. */
    readonly pid: number,
  ) {}

  /**
   * Starts the bus, then resolved with `server` as its global DNS server, in `ns` with `dir` (the
   * test's, empty) for /run and the account copies. Resolves once resolvectl answers.
   */
  static async start(ns: NetworkNamespace, dir: string, server: string): Promise<ResolvedInNamespace> {
    const run = join(dir, "run");
    mkdirSync(join(run, "dbus"), { recursive: true });
    mkdirSync(join(run, "systemd", "resolve"), { recursive: true });
    mkdirSync(join(run, "systemd", "resolved.conf.d"), { recursive: true });
    chownSync(join(run, "systemd", "resolve"), RESOLVE_ID, RESOLVE_ID);
    writeFileSync(join(run, "systemd", "resolved.conf.d", "test.conf"), resolvedConf(server));
    const passwd = join(dir, "passwd");
    const group = join(dir, "group");
    writeFileSync(
      passwd,
      `${readFileSync("/etc/passwd", "utf8")}systemd-resolve:x:${RESOLVE_ID}:${RESOLVE_ID}:systemd Resolver:/:/usr/sbin/nologin\n`,
    );
    writeFileSync(group, `${readFileSync("/etc/group", "utf8")}systemd-resolve:x:${RESOLVE_ID}:\n`);
    const busConf = join(dir, "bus.conf");
    writeFileSync(busConf, busConfig());
    const mounts = [
      [run, "/run"],
      [passwd, "/etc/passwd"],
      [group, "/etc/group"],
    ].map(([from, onto]) => `mount --bind ${quoteShellArg(from!)} ${onto!}`);
    // ip netns exec, unshare and sh each exec the next: the bus keeps the PID spawn saw.
    const bus = ns.spawn("unshare", [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `${mounts.join(" && ")} && exec dbus-daemon --config-file=${quoteShellArg(busConf)} --nofork --nopidfile`,
    ]);
    const pid = bus.pid;
    if (pid === undefined) throw new Error(`${bus.description} did not start`);
    await until(
      () => existsSync(join(run, "dbus", "system_bus_socket")),
      `the bus's socket (${bus.description})`,
    );
    const daemon = spawnManaged("nsenter", ["-t", String(pid), "-m", "-n", DAEMON]);
    const started = new ResolvedInNamespace(bus, daemon, pid);
    try {
      await until(
        async () => (await started.run(join(RESOLVECTL_DIR, "resolvectl"), ["status"])).code === 0,
        "resolvectl status",
      );
    } catch (error) {
      await started.stop();
      throw error;
    }
    return started;
  }

  /** The words that run `command` in R and the private mount namespace: for an `exec:` target too. */
  enter(command: readonly string[]): string[] {
    return ["nsenter", "-t", String(this.pid), "-m", "-n", ...command];
  }

  run(file: string, args: readonly string[]): Promise<CommandResult> {
    const [nsenter, ...rest] = this.enter([file, ...args]);
    return runCommand(nsenter!, rest, { timeoutMs: 15_000 });
  }

  /** `resolvectl ARGS` as the agent sees it; rejects with its output when it fails. */
  async resolvectl(args: readonly string[]): Promise<string> {
    const result = await this.run(join(RESOLVECTL_DIR, "resolvectl"), args);
    if (result.code !== 0) throw new Error(`resolvectl ${args.join(" ")}: ${text(result)}`);
    return result.stdout;
  }

  /** resolved first, then its bus: by PID. */
  async stop(): Promise<void> {
    await this.daemon.stop();
    await this.bus.stop();
  }
}

async function until(met: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await met()); waited += 100) {
    if (waited > 10_000) throw new Error(`not within 10 s: ${what}`);
    await sleep(100);
  }
}
