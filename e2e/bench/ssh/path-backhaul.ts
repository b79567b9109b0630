// Backhaul: `backhaul connect` in L (dist/cli.mjs) over TestSshd in R, as e2e/cli-ssh.test.ts
// runs it. With the TUN entrance the agent in R owns the TUN, the routes and R's resolver while
// connected; with the proxy entrance (row "proxy") it only listens on R's loopback and writes
// ~/.config/backhaul/proxy.env, whose ALL_PROXY the curl measurements use.
import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LINK_SUBNET_OPTIONS } from "../../cli/command.js";
import { readJsonLines } from "../../netns/json-lines.js";
import { S_NETWORK } from "./path-direct.js";
import { gcProbeEnv } from "./gc-count.js";
import { waitFor, type PeerPath } from "./path.js";
import type { BenchTopology } from "./topology.js";
import { SSH_LINK } from "../../netns/address-plan.js";

const ROOT = new URL("../../..", import.meta.url).pathname;
const CLI = join(ROOT, "dist/cli.mjs");

export interface CliEvent {
  type: string;
  state?: string;
  message?: string;
  line?: string;
}

/** ALL_PROXY's value (socks5h://user:pass@127.0.0.1:PORT) from a proxy.env, if it has one. */
export function socksUrlOf(envText: string): string | undefined {
  return /^export ALL_PROXY='(socks5h:\/\/[^']+)'$/m.exec(envText)?.[1];
}

async function readSocksUrl(file: string): Promise<string | undefined> {
  try {
    return socksUrlOf(await readFile(file, "utf8"));
  } catch {
    return undefined; // not written yet
  }
}

/** `cliFile`: another build of dist/cli.mjs (helper-local.mjs and agent/ beside it), for A/B runs. */
export function startBackhaul(t: BenchTopology, cliFile = CLI): Promise<PeerPath> {
  return startConnect(t, "tun", cliFile);
}

/** The proxy entrance: the same connect with `--entrance proxy`, as the same user. */
export function startBackhaulProxy(t: BenchTopology, cliFile = CLI): Promise<PeerPath> {
  return startConnect(t, "proxy", cliFile);
}

/** A `backhaul connect` in L that has said "connected"; its events (every line it printed) so far. */
export interface ConnectRun {
  events: readonly CliEvent[];
  /** From spawning to the "connected" state. */
  connectMs?: number;
  /** Where the GC probe in main and the helper writes their counts (gc-count.ts). */
  gcDir: string;
  /** Why it is no use any more (an error event, or its exit), if it is not. */
  exited(): string | undefined;
  /** SIGINT (it disconnects cleanly and the agent undoes its TUN, routes and resolver), then R's resolver reset. */
  stop(): Promise<void>;
}

/**
 * `backhaul connect ssh://bhdev@R` in L with `options` after the link's, as a user of ours with
 * no agent; resolves once it is connected, stops it if it does not get there.
 */
export async function runConnect(
  t: BenchTopology,
  options: readonly string[],
  cliFile = CLI,
): Promise<ConnectRun> {
  const args = [
    cliFile,
    "connect",
    `ssh://bhdev@${SSH_LINK.remote.v4}`,
    ...["-i", t.sshd.keys.plain, "--known-hosts", join(t.dir, "backhaul_known_hosts")],
    "--accept-new-host-key",
    ...LINK_SUBNET_OPTIONS,
    ...options,
    "--json",
  ];
  // No agent, and a HOME of ours: nothing of this machine's ~/.ssh is used. The GC probe: in main,
  // and in the helper, which inherits main's environment.
  const gcDir = mkdtempSync(join(t.dir, "gc-"));
  const cli = t.local.spawn("env", [
    "-u",
    "SSH_AUTH_SOCK",
    `HOME=${t.dir}`,
    ...gcProbeEnv(gcDir),
    process.execPath,
    ...args,
  ]);
  const events: CliEvent[] = [];
  const started = performance.now();
  let connectMs: number | undefined;
  // Read every line, flows included: a full stdout pipe would stall the CLI.
  readJsonLines(
    cli.child.stdout,
    (value) => {
      const event = value as unknown as CliEvent;
      if (connectMs === undefined && event.type === "state" && event.state === "connected")
        connectMs = performance.now() - started;
      events.push(event);
    },
    (line) => events.push({ type: "garbage", line }),
  );
  let stderr = "";
  cli.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (!cli.hasExited) cli.child.kill("SIGINT");
    await cli.waitForExit(30_000).catch(() => cli.stop());
    await t.resetRemoteResolver();
  };
  const exited = (): string | undefined => {
    const error = events.find((e) => e.type === "error");
    if (error) return error.message ?? "error";
    if (!cli.hasExited) return undefined;
    const said = events.filter((e) => e.type !== "flow").slice(-5);
    return `exited: ${stderr.trim() || JSON.stringify(said)}`;
  };
  try {
    await waitFor(
      `backhaul connect ${options.join(" ")}`,
      () => events.some((e) => e.type === "state" && e.state === "connected"),
      exited,
      90_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { events, ...(connectMs !== undefined && { connectMs }), gcDir, exited, stop };
}

async function startConnect(t: BenchTopology, entrance: "tun" | "proxy", cliFile: string): Promise<PeerPath> {
  const { connectMs, gcDir, exited, stop } = await runConnect(
    t,
    ["--route", S_NETWORK, "--entrance", entrance],
    cliFile,
  );
  let proxy: string | undefined;
  if (entrance === "proxy") {
    const envFile = join(t.sshd.users.dev.home, ".config", "backhaul", "proxy.env");
    try {
      await waitFor(
        "proxy.env",
        async () => (proxy = await readSocksUrl(envFile)) !== undefined,
        exited,
        15_000,
      );
    } catch (error) {
      await stop();
      throw error;
    }
  }
  const common = `backhaul connect ssh://bhdev@${SSH_LINK.remote.v4} in L (aes128-gcm, link MTU 65520), --route ${S_NETWORK}`;
  return entrance === "proxy" && proxy
    ? {
        name: "proxy",
        setup: `${common}, --entrance proxy: SOCKS5 on R's loopback (ALL_PROXY from ~/.config/backhaul/proxy.env), curl only`,
        userspace: true,
        proxy,
        ...(connectMs !== undefined && { connectMs }),
        gcDir,
        stop,
      }
    : {
        name: "backhaul",
        setup: `${common}, --entrance tun, DNS through L's resolver (default --dns all)`,
        userspace: true,
        ...(connectMs !== undefined && { connectMs }),
        gcDir,
        stop,
      };
}
