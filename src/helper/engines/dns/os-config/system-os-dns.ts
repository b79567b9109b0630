/**
 * Which reader of this computer's DNS configuration runs here, and the fallbacks when it fails.
 *
 * Linux: systemd-resolved's per-link view only when resolv.conf points at its stub (127.0.0.53 or
 * .54), i.e. when resolved is what this computer really asks; NetworkManager's devices only when
 * NetworkManager wrote resolv.conf; otherwise, and whenever those commands fail or list no
 * server, resolv.conf itself. Checking resolv.conf first keeps a network namespace honest: its own
 * /etc/netns resolv.conf is what it uses, whatever the host's resolved or NetworkManager say.
 * macOS: `scutil --dns`. Windows: one PowerShell run (windows-dns.ts). Where a command fails,
 * resolv.conf, then Node's own server list (c-ares's reading of the system), as before.
 */
import { readFile } from "node:fs/promises";
import { runCommand } from "../../run-command.js";
import {
  parseResolvConf,
  parseResolvConfSearch,
  readSystemResolvers,
  RESOLV_CONF_PATH,
} from "../resolv-conf.js";
import { parseNmcliDeviceShow, NMCLI_DEVICE_SHOW } from "./linux-nmcli.js";
import { parseResolvectlStatus, RESOLVECTL_STATUS } from "./linux-resolvectl.js";
import { parseScutilDns, SCUTIL_DNS } from "./macos-scutil.js";
import type { OsDnsConfig } from "./os-dns-config.js";
import { splitWindowsDnsOutput, WINDOWS_DNS_COMMAND, windowsDnsConfig } from "./windows-dns.js";

/** Runs a program and resolves with what it printed; rejects when it fails. */
export type RunProgram = (command: { file: string; args: readonly string[] }) => Promise<string>;

export interface OsDnsSources {
  platform?: NodeJS.Platform;
  run?: RunProgram;
  readResolvConf?: () => Promise<string>;
  nodeServers?: () => string[];
}

const COMMAND_TIMEOUT_MS = 5_000;
const RESOLVED_STUBS = new Set(["127.0.0.53", "127.0.0.54"]);

const runProgram: RunProgram = async ({ file, args }) =>
  (
    await runCommand(file, args, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      maxOutputBytes: 4 * 1024 * 1024,
      // resolvectl and nmcli translate their values; the parsers read the C locale's.
      env: { ...process.env, LC_ALL: "C" },
    })
  ).stdout;

/** This computer's DNS configuration, read now. Never rejects: the last fallback lists what Node knows. */
export async function readOsDnsConfig(sources: OsDnsSources = {}): Promise<OsDnsConfig> {
  const platform = sources.platform ?? process.platform;
  const run = sources.run ?? runProgram;
  const readResolvConf = sources.readResolvConf ?? (() => readFile(RESOLV_CONF_PATH, "utf8"));
  const usable = (config: OsDnsConfig | undefined): config is OsDnsConfig =>
    config !== undefined && config.resolvers.some((resolver) => resolver.servers.length > 0);
  const attempt = async (read: () => Promise<OsDnsConfig>): Promise<OsDnsConfig | undefined> => {
    try {
      const config = await read();
      return usable(config) ? config : undefined;
    } catch {
      return undefined;
    }
  };
  if (platform === "darwin") {
    const config = await attempt(async () => parseScutilDns(await run(SCUTIL_DNS)));
    if (config) return config;
  }
  if (platform === "win32") {
    const config = await attempt(async () =>
      windowsDnsConfig(splitWindowsDnsOutput(await run(WINDOWS_DNS_COMMAND))),
    );
    if (config) return config;
  }
  let resolvConf: string | undefined;
  if (platform !== "win32") resolvConf = await readResolvConf().catch(() => undefined);
  if (platform === "linux" && resolvConf !== undefined) {
    const servers = parseResolvConf(resolvConf);
    if (servers.length > 0 && servers.every((server) => RESOLVED_STUBS.has(server))) {
      const config = await attempt(async () => parseResolvectlStatus(await run(RESOLVECTL_STATUS)));
      if (config) return config;
    } else if (/^#.*NetworkManager/m.test(resolvConf)) {
      const config = await attempt(async () => parseNmcliDeviceShow(await run(NMCLI_DEVICE_SHOW)));
      if (config) return config;
    }
  }
  const servers = await readSystemResolvers({
    platform,
    readResolvConf: () =>
      resolvConf === undefined ? Promise.reject(new Error("unreadable")) : Promise.resolve(resolvConf),
    nodeServers: sources.nodeServers,
  });
  const reader = resolvConf !== undefined && parseResolvConf(resolvConf).length > 0 ? "resolv.conf" : "node";
  return {
    reader,
    resolvers: [{ domains: [], servers, source: reader }],
    searchDomains: resolvConf === undefined ? [] : parseResolvConfSearch(resolvConf),
  };
}
