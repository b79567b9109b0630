/**
 * This computer's resolvers. On Linux and macOS, /etc/resolv.conf's nameserver lines, read fresh
 * each time (VPN clients rewrite it); elsewhere, or when it lists none, Node's own list
 * (`dns.getServers()`, which c-ares reads from the system at start-up, and from the registry on
 * Windows). The last of the readers in os-config/system-os-dns.ts: per-domain resolvers (macOS,
 * Windows, systemd-resolved) are not in resolv.conf.
 */
import { getServers } from "node:dns";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import type { Upstream } from "./upstream.js";

export const DNS_PORT = 53;
export const RESOLV_CONF_PATH = "/etc/resolv.conf";

/**
 * The nameserver addresses of a resolv.conf, in order. As in glibc: a keyword starts a line,
 * `#` or `;` starts a comment, only the first word after the keyword counts, and an address
 * that does not parse is skipped.
 */
export function parseResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [keyword, value] = line.split(/[#;]/, 1)[0]?.trim().split(/\s+/) ?? [];
    if (keyword !== "nameserver" || value === undefined) continue;
    if (isIP(value) !== 0 && !servers.includes(value)) servers.push(value);
  }
  return servers;
}

/** Parses one of `dns.getServers()`'s forms: "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353". */
export function parseServerAddress(server: string): Upstream | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) {
    const [, address = "", port] = bracketed;
    return withPort(address, port);
  }
  if (isIP(server) !== 0) return { address: server, port: DNS_PORT };
  const withPortMatch = /^([\d.]+):(\d+)$/.exec(server);
  if (withPortMatch) return withPort(withPortMatch[1] ?? "", withPortMatch[2]);
  return undefined;
}

function withPort(address: string, port: string | undefined): Upstream | undefined {
  const number = port === undefined ? DNS_PORT : Number(port);
  if (isIP(address) === 0 || !Number.isInteger(number) || number < 1 || number > 65535) return undefined;
  return { address, port: number };
}

/** The search domains of a resolv.conf: its last `search` or `domain` line wins, as in glibc. */
export function parseResolvConfSearch(text: string): string[] {
  let domains: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [keyword, ...values] = line.split(/[#;]/, 1)[0]?.trim().split(/\s+/) ?? [];
    if (keyword === "search") domains = values;
    else if (keyword === "domain" && values[0] !== undefined) domains = [values[0]];
  }
  return domains;
}

export interface SystemResolverSources {
  platform?: NodeJS.Platform;
  readResolvConf?: () => Promise<string>;
  nodeServers?: () => string[];
}

export async function readSystemResolvers(sources: SystemResolverSources = {}): Promise<Upstream[]> {
  const platform = sources.platform ?? process.platform;
  const readResolvConf = sources.readResolvConf ?? (() => readFile(RESOLV_CONF_PATH, "utf8"));
  if (platform !== "win32") {
    try {
      const servers = parseResolvConf(await readResolvConf());
      if (servers.length > 0) return servers.map((address) => ({ address, port: DNS_PORT }));
    } catch {
      // No readable resolv.conf: Node's list below.
    }
  }
  const nodeServers = (sources.nodeServers ?? getServers)();
  return nodeServers.flatMap((server) => parseServerAddress(server) ?? []);
}
