/**
 * The full path without SSH (issue #4): the real remote agent (the bundled dist/agent) in R and
 * the real local helper (dist/helper-local.mjs) in L, joined by a relay in the test process
 * that stands in for the SSH exec channel; S serves HTTP and, with dnsmasq, the private zone.
 *
 *   R: agent; TUN bh0 at LINK_SUBNET.remote (from CONFIG); resolv.conf -> 127.0.0.1
 *      (nothing answers: the zone cannot resolve there until the agent points DNS at the stub)
 *   L: helper; on LAN and CORP_NET; resolv.conf -> S's dnsmasq
 *   S: LAN.dns (dnsmasq), CORP_NET.host (host.corp.test: HTTP, echo)
 * (addresses: e2e/netns/address-plan.ts; S: private-network.ts)
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { encodeLine, type HelperExitOptions } from "../../src/shared/helper-protocol.js";
import { readFirstLine } from "../../src/helper/local/line-socket.js";
import { ADVERTISED, LAN, LINK_SUBNET, prefixes } from "../netns/address-plan.js";
import { attachPrivateNetwork } from "./private-network.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const AGENT = join(ROOT, "dist/agent/backhaul-agent.cjs");
export const HELPER = join(ROOT, "dist/helper-local.mjs");

export interface FullPath {
  lab: NetnsLab;
  remote: NetworkNamespace;
  local: NetworkNamespace;
  server: NetworkNamespace;
  /** The local helper, unless the test runs the exit side itself. */
  helper: ManagedProcess | undefined;
  socketPath: string;
  /** The helper's token (in its control directory's token file, as main writes it). */
  token: string;
  /** What each link asks the helper for: the test's subnets and routes. */
  linkOptions: HelperExitOptions;
  journalPath: string;
  /** R's resolv.conf as the agent's processes see it (the namespace's bind-mounted file). */
  remoteResolvConfPath: string;
  cleanup(): Promise<void>;
}

export interface AgentRun {
  agent: ManagedProcess;
  relay: Socket;
  /** Everything the agent wrote to stderr so far. */
  log(): string;
  /** Resolves when the agent logged `ready`. */
  ready: Promise<void>;
}

export function buildFullPath(
  extraRoutes: string[] = [],
  options: { helper?: boolean } = {},
): Promise<FullPath> {
  return NetnsLab.build(async (lab) => {
    const dir = lab.tempDir("backhaul-full-");
    const remote = await lab.createNamespace("r", {
      resolvConf: "# R before backhaul\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    });
    const local = await lab.createNamespace("l", {
      resolvConf: `nameserver ${LAN.dns.v4}\nnameserver ${LAN.dns.v6}\n`,
    });
    const server = await attachPrivateNetwork(lab, local, dir);

    // As the supervisor does it: a 0700 control directory with the token in a 0600 file.
    const controlDir = join(dir, "helper");
    mkdirSync(controlDir, { mode: 0o700 });
    const token = randomBytes(32).toString("hex");
    writeFileSync(join(controlDir, "token"), token, { mode: 0o600 });
    const socketPath = join(controlDir, "helper.sock");
    const linkOptions: HelperExitOptions = {
      mtu: 65520,
      subnetV4: LINK_SUBNET.network.v4,
      subnetV6: LINK_SUBNET.network.v6,
      routes: [...prefixes(ADVERTISED), ...extraRoutes],
      allowLocal: false,
      dns: "all",
      keepaliveIntervalMs: 5_000,
      pingTimeoutMs: 10_000,
    };
    const helper =
      options.helper === false
        ? undefined
        : local.spawn(process.execPath, [HELPER, "--control-dir", controlDir]);
    if (helper) await waitForStderr(helper, /listening on/, 15_000);
    return {
      lab,
      remote,
      local,
      server,
      helper,
      socketPath,
      token,
      linkOptions,
      journalPath: join(dir, "journal", "journal.json"),
      remoteResolvConfPath: join("/etc/netns", remote.name, "resolv.conf"),
      cleanup: () => lab.cleanup(),
    };
  });
}

/**
 * Starts the agent in R and relays its stdio to the helper, as the SSH channel would. With
 * `linkAfter`, nothing passes between the two until it resolves: what the agent does before
 * then, it does before it has any CONFIG to act on.
 */
export function startAgent(
  path: FullPath,
  args: string[] = [],
  options: { linkAfter?: Promise<void> } = {},
): AgentRun {
  const linkAfter = options.linkAfter ?? Promise.resolve();
  const agent = path.remote.spawn(process.execPath, [AGENT, "--journal", path.journalPath, ...args]);
  const relay = connect(path.socketPath);
  relay.on("error", () => undefined);
  agent.child.stdin?.on("error", () => undefined);
  // The helper's protocol: a first line with the token and the link's options, one line back,
  // then the link's frames (src/shared/helper-protocol.ts).
  relay.write(encodeLine({ type: "link", token: path.token, options: path.linkOptions }));
  void linkAfter.then(() => agent.child.stdout?.pipe(relay));
  let log = "";
  const refused = (why: string): void => {
    log += `relay: the helper did not accept the link: ${why}\n`;
    relay.destroy();
    agent.child.stdin?.end();
  };
  void readFirstLine(relay, 4096, 10_000).then(async (line) => {
    if (!line.includes('"accepted"')) return refused(line);
    await linkAfter;
    relay.pipe(agent.child.stdin!);
    relay.resume();
  }, refused);
  agent.child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready in 20 s:\n${log}`)), 20_000);
    agent.child.stderr?.on("data", () => {
      if (/ready: bh0/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void agent.exited.then((info) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${info.code ?? info.signal}):\n${log}`));
    });
  });
  ready.catch(() => undefined); // a --recover-only run never gets ready: not an unhandled rejection
  return { agent, relay, log: () => log, ready };
}

function waitForStderr(process: ManagedProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(
      () => reject(new Error(`${process.description}: no ${pattern} in ${timeoutMs} ms: ${text}`)),
      timeoutMs,
    );
    process.child.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** What "the remote exactly as it found it" is compared on. */
export async function snapshotRemote(path: FullPath): Promise<Record<string, string>> {
  const run = async (args: string[]) => (await path.remote.runChecked("ip", args)).stdout;
  return {
    links: (await run(["-o", "link", "show"])).replace(/\s+link\/\S+.*$/gm, ""),
    addresses: await run(["-o", "addr", "show"]),
    routes4: await run(["-4", "route", "show", "table", "all"]),
    routes6: await run(["-6", "route", "show", "table", "all"]),
    resolvConf: readFileSync(path.remoteResolvConfPath).toString("base64"),
  };
}
