// The built CLI (dist/cli.mjs) as the e2e suites run it in a namespace: as a user whose home is a
// temp directory, with no SSH agent to fall back on, and `backhaul ui`'s URL read from its output.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { quoteShellArg, shellCommand } from "../../src/main/broker/deploy/shell-quote.js";
import { LINK_SUBNET, SSH_LINK } from "../netns/address-plan.js";
import type { ManagedProcess } from "../netns/index.js";
import { netnsSkipReason } from "../netns/preconditions.js";
import { sshdSkipReason } from "../sshd/preconditions.js";
import type { SshdSuite } from "../sshd/private-lab.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const CLI = join(ROOT, "dist/cli.mjs");

/** Why a suite that runs the built CLI cannot run here: dist/ is not built; or undefined. */
export function distSkipReason(): string | undefined {
  return existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first";
}

/** Why a suite of the CLI against R's test sshd cannot run: netns with a TUN and `tools`, sshd, dist/. */
export function sshCliSkipReason(tools: readonly string[]): string | undefined {
  return netnsSkipReason({ tun: true, tools: [...tools] }) ?? sshdSkipReason() ?? distSkipReason();
}

/** The `env` arguments that run the CLI with `args` in `home`, SSH_AUTH_SOCK unset. */
export function cliInHome(home: string, args: readonly string[]): string[] {
  return ["-u", "SSH_AUTH_SOCK", `HOME=${home}`, process.execPath, CLI, ...args];
}

/**
 * cliInHome with the sessions' control sockets in `runtimeDir` (XDG_RUNTIME_DIR), not the
 * machine's shared directory: a session command there finds only the test's own session.
 */
export function cliInRuntimeDir(runtimeDir: string, home: string, args: readonly string[]): string[] {
  return [`XDG_RUNTIME_DIR=${runtimeDir}`, "env", ...cliInHome(home, args)];
}

/**
 * An `exec:` command that gives a shell in the namespace `ns` with a private /run: in a mount
 * namespace of its own, `runDir` is bound over /run (the agent's journal and lock live there, must
 * not be this machine's, and outlive one run of the command), then each of `binds` over its target,
 * then `command` (its words, e.g. `["env", "HOME=…", "sh"]`) is exec'd.
 */
export function privateRunShell(
  ns: string,
  runDir: string,
  command: readonly string[],
  binds: readonly (readonly [from: string, onto: string])[] = [],
): string {
  const mounts = [[runDir, "/run"] as const, ...binds].map(
    ([from, onto]) => `mount --bind ${quoteShellArg(from)} ${onto}`,
  );
  return shellCommand([
    "ip",
    "netns",
    "exec",
    ns,
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    `${mounts.join(" && ")} && exec ${shellCommand(command)}`,
  ]);
}

/** The link subnets of the SSH suites: R's end of the link in LINK_SUBNET. */
export const LINK_SUBNET_OPTIONS = [
  "--link-subnet",
  LINK_SUBNET.network.v4,
  "--link-subnet6",
  LINK_SUBNET.network.v6,
];

/** S's routes, both families: what L advertises to R in the suites of S behind L. */
export const S_ROUTE_OPTIONS = ["--route", "198.19.0.0/16", "--route", "2001:db8:19::/48"];

/** `backhaul connect` to `target` with the key `identity`, host keys in `home`'s known_hosts; `options` follow. */
export function connectInHome(
  home: string,
  target: string,
  identity: string,
  options: readonly string[],
): string[] {
  return cliInHome(home, [
    "connect",
    target,
    "-i",
    identity,
    "--known-hosts",
    join(home, "known_hosts"),
    ...options,
  ]);
}

/**
 * `backhaul connect` in L over SSH to R's test sshd as `user`, with the suite's key, R's host key
 * accepted, the suites' link subnets and S's routes; `options` follow. `runtimeDir`: its control
 * socket goes there (cliInRuntimeDir), not in the machine's shared directory.
 */
export function connectOverSsh(
  suite: SshdSuite,
  user: string,
  options: readonly string[],
  runtimeDir?: string,
): ManagedProcess {
  return suite.local.spawn("env", [
    ...(runtimeDir === undefined ? [] : [`XDG_RUNTIME_DIR=${runtimeDir}`, "env"]),
    ...connectInHome(suite.home, `ssh://${user}@${SSH_LINK.remote.v4}`, suite.sshd.keys.plain, [
      "--accept-new-host-key",
      ...LINK_SUBNET_OPTIONS,
      "--route",
      "198.19.0.0/16",
      ...options,
    ]),
  ]);
}

/** The URL `backhaul ui` prints (within 15 s), and everything it has written to stderr so far. */
export async function uiUrl(ui: ManagedProcess): Promise<{ url: string; log(): string }> {
  let stderr = "";
  ui.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`no URL from backhaul ui in 15 s: ${out}${stderr}`)),
      15_000,
    );
    ui.child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /open (http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void ui.exited.then((info) => reject(new Error(`backhaul ui exited (${info.code}): ${out}${stderr}`)));
  });
  return { url, log: () => stderr };
}
