// Why a namespace suite cannot run here, as a sentence for t.skip(), or undefined when it can.
// Checked up front so a machine without root or /dev/net/tun reports a clear skip, not a failure.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { TestContext } from "node:test";

export interface NetnsRequirements {
  /** The suite opens TUN devices. */
  tun?: boolean;
  /** Commands the suite runs (looked up on PATH), e.g. ["ping", "dig"]. */
  tools?: readonly string[];
}

/** Debian packages that provide the tools the e2e suites use. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: "iproute2",
  ping: "iputils-ping",
  dig: "dnsutils",
  nc: "netcat-openbsd",
  curl: "curl",
  iperf3: "iperf3",
  hping3: "hping3",
  dnsmasq: "dnsmasq-base",
  "dbus-daemon": "dbus-daemon",
  sysctl: "procps",
  bash: "bash",
  timeout: "coreutils",
  setpriv: "util-linux",
  nsenter: "util-linux",
  unshare: "util-linux",
  getent: "libc-bin",
  getconf: "libc-bin",
  tshark: "tshark",
};

export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Effective capability bit `bit` of this process (CAP_NET_ADMIN = 12, CAP_SYS_ADMIN = 21). */
function hasCapability(bit: number): boolean {
  try {
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return match !== null && ((BigInt(`0x${match[1]}`) >> BigInt(bit)) & 1n) === 1n;
  } catch {
    return false;
  }
}

let namespaceRefusal: { reason: string | undefined } | undefined;

/**
 * The capability bits can be set and namespaces still refused (a container's seccomp profile):
 * tries once, for real, to create one. Without `unshare` the capability check is all there is.
 */
function namespaceRefused(): string | undefined {
  if (!namespaceRefusal) {
    const result = spawnSync("unshare", ["--net", "true"], { encoding: "utf8" });
    namespaceRefusal = {
      reason:
        result.error || result.status === 0
          ? undefined
          : `this machine refuses to create network namespaces (unshare --net: ${result.stderr.trim()})`,
    };
  }
  return namespaceRefusal.reason;
}

export function netnsSkipReason(requirements: NetnsRequirements = {}): string | undefined {
  if (process.platform !== "linux") return `network namespaces need Linux, not ${process.platform}`;
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return "network namespace tests need root: run them with sudo";
  }
  if (!hasCapability(21)) return "network namespace tests need CAP_SYS_ADMIN (a privileged container)";
  if (!hasCapability(12)) return "network namespace tests need CAP_NET_ADMIN";
  const refused = namespaceRefused();
  if (refused) return refused;
  if (requirements.tun && !existsSync("/dev/net/tun")) {
    return "/dev/net/tun is missing: load the tun module (modprobe tun) or pass the device into the container";
  }
  for (const tool of ["ip", ...(requirements.tools ?? [])]) {
    if (!findOnPath(tool)) {
      const pkg = TOOL_PACKAGES[tool];
      return `\`${tool}\` is not installed${pkg ? ` (Debian package ${pkg})` : ""}`;
    }
  }
  return undefined;
}

/**
 * Skips `t` and says why on stdout, so the reason shows in every reporter (the spec reporter
 * alone prints only "# SKIP"). Every e2e skip goes through here.
 */
export function skipSaying(t: { name: string; skip(message?: string): void }, reason: string): void {
  console.log(`skipped: "${t.name}": ${reason}`);
  t.skip(reason);
}

/**
 * The steps of one test, each a subtest of `t` that needs the ones before it: after a failure the
 * rest are skipped (skipSaying), not timed out.
 */
export function stepsOf(t: TestContext): (name: string, run: () => Promise<void>) => Promise<void> {
  let failed = false;
  return (name, run) =>
    t.test(name, async (st) => {
      if (failed) return skipSaying(st, "an earlier step failed");
      try {
        await run();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
}

/**
 * A test body that runs where `unmet()` gives no reason and skips (skipSaying) where it does;
 * `unmet` is asked as the test starts, not as the file loads. The suite calls test() itself, so
 * the runner names the test's own file (scripts/test.mjs allows skips in CI by file).
 */
export function whenMet(
  unmet: () => string | undefined,
  body: (t: TestContext) => Promise<void> | void,
): (t: TestContext) => Promise<void> {
  return async (t) => {
    const reason = unmet();
    if (reason) return skipSaying(t, reason);
    await body(t);
  };
}
