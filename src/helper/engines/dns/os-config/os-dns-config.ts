/**
 * This computer's DNS configuration as its OS reports it, one shape for every OS: which resolvers
 * answer which domains, and the search list. One reader per OS fills it (macos-scutil.ts,
 * windows-*.ts, linux-resolvectl.ts, linux-nmcli.ts, resolv-conf.ts via system-os-dns.ts);
 * choose-resolvers.ts picks the resolvers for a name from it, the way the OS would.
 */
import { isIP } from "node:net";
import type { Upstream } from "../upstream.js";

export interface OsResolver {
  /**
   * The domains this resolver answers, lower case, without leading or trailing dots; "." for
   * every name (systemd-resolved's `~.`, an NRPT rule for "."), beaten by any longer match.
   * Empty: a default resolver, asked for names no domain matches.
   */
  domains: string[];
  /** In the order to ask them. Empty: names under `domains` go to the default resolvers (an NRPT exemption). */
  servers: Upstream[];
  searchDomains?: string[];
  /** The interface or link it belongs to, as the OS names it ("utun4", "tun0", "Ethernet 2"). */
  interface?: string;
  /** Lower is asked first when several match a name equally well (scutil's `order`). */
  order?: number;
  /**
   * macOS's "for scoped queries" resolvers: only programs bound to that interface use them, so
   * names never choose them (see choose-resolvers.ts for the one exception).
   */
  scoped?: boolean;
  /** Where it came from, for the DNS table and logs: "scutil resolver #2", "NRPT .corp.example". */
  source: string;
}

export interface OsDnsConfig {
  /** Which reader filled it: "scutil", "windows", "resolvectl", "nmcli", "resolv.conf", "fixed". */
  reader: string;
  resolvers: OsResolver[];
  /** The search list for single-label names, in order. */
  searchDomains: string[];
}

export const DNS_PORT = 53;

/** "Corp.Example." and ".corp.example" → "corp.example"; "." and "" stay what they are. */
export function normalizeDomain(domain: string): string {
  const lower = domain.trim().toLowerCase();
  if (lower === "." || lower === "") return lower;
  return lower.replace(/^\.+/, "").replace(/\.+$/, "");
}

/**
 * A resolver address as the OS prints it: "198.18.0.1", "2001:db8::1", "fe80::1%en0",
 * "[2001:db8::1]:5353", "198.18.0.1:5353", with resolved's "#server-name" for DNS over TLS
 * dropped. Undefined for anything else, and for the unspecified addresses (`::`, `0.0.0.0`)
 * that Windows lists for an adapter with no server.
 */
export function parseServer(text: string, port = DNS_PORT): Upstream | undefined {
  const bare = text.trim().split("#", 1)[0] ?? "";
  let address = bare;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(bare);
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(bare);
  if (bracketed) [, address = "", portText] = bracketed;
  else if (v4WithPort) [, address = "", portText] = v4WithPort;
  const number = portText === undefined ? port : Number(portText);
  const withoutZone = address.split("%", 1)[0] ?? "";
  if (isIP(withoutZone) === 0 || !Number.isInteger(number) || number < 1 || number > 65_535) return undefined;
  if (withoutZone === "::" || withoutZone === "0.0.0.0") return undefined;
  return { address, port: number };
}

/** Upstreams in order, each once. */
export function uniqueServers(servers: Iterable<Upstream>): Upstream[] {
  const seen = new Set<string>();
  const out: Upstream[] = [];
  for (const server of servers) {
    const key = `${server.address}#${server.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(server);
  }
  return out;
}

/** Domains in order, each once, normalized; "." and "" left out. */
export function uniqueDomains(domains: Iterable<string>): string[] {
  const out: string[] = [];
  for (const domain of domains) {
    const normal = normalizeDomain(domain);
    if (normal === "" || normal === "." || out.includes(normal)) continue;
    out.push(normal);
  }
  return out;
}

/**
 * This computer's DNS domains, for split DNS on the remote: the search list and every domain a
 * resolver of its own answers (VPN supplemental and scoped resolvers, NRPT rules, resolved's
 * routing domains), each once, lower case. Catch-alls (".") are not domains and are left out.
 */
export function osDnsDomains(config: OsDnsConfig): string[] {
  return uniqueDomains([
    ...config.searchDomains,
    ...config.resolvers.flatMap((resolver) => [...resolver.domains, ...(resolver.searchDomains ?? [])]),
  ]);
}

/** A configuration of one default resolver: a fixed list (tests, `resolvers` in DnsEngineOptions). */
export function fixedDnsConfig(
  servers: readonly Upstream[],
  searchDomains: readonly string[] = [],
): OsDnsConfig {
  return {
    reader: "fixed",
    resolvers: [{ domains: [], servers: [...servers], source: "fixed" }],
    searchDomains: [...searchDomains],
  };
}

/** A configuration's identity: two reads that give the same one change nothing. */
export function describeDnsConfig(config: OsDnsConfig): string {
  return JSON.stringify([
    config.resolvers.map((r) => [
      r.domains,
      r.servers.map((s) => `${s.address}#${s.port}`),
      r.scoped ?? false,
    ]),
    config.searchDomains,
  ]);
}
