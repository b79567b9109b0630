/**
 * Split DNS's domains: this computer's own (its search domains and the domains its VPNs' resolvers
 * answer, as the OS reports them: `localDnsDomains` is the one place that reads them) and the
 * user's (`--dns-domain`, the window's setting). Each connect reads them again, as a VPN may have
 * come up since.
 */
import { osDnsDomains, readOsDnsConfig, type OsDnsConfig } from "../../helper/engines/dns/index.js";
import type { HelperExitOptions } from "../../shared/helper-protocol.js";
import { isDomainName } from "../../shared/link-protocol.js";

/** "Corp.Test." and "corp.test" are one domain. */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, "");
}

/** This computer's search and VPN domains, as names this side can send. */
export async function localDnsDomains(
  readConfig: () => Promise<OsDnsConfig> = () => readOsDnsConfig(),
): Promise<string[]> {
  return osDnsDomains(await readConfig())
    .filter(isDomainName)
    .map(normalizeDomain);
}

export type DnsMode = HelperExitOptions["dns"];

export interface SessionDns {
  dns: DnsMode;
  dnsDomains?: string[];
  /** What the user should know about it: which domains, or why split became all. */
  note: string | null;
}

/**
 * The DNS a connect runs with. Split with no domain at all (none on this computer, none given)
 * would carry only reverse lookups, and a private name would fail on the remote for no reason
 * the user can see: it runs as "all" instead, and says so.
 */
export async function sessionDns(
  mode: DnsMode,
  userDomains: readonly string[],
  readLocal: () => Promise<string[]> = localDnsDomains,
): Promise<SessionDns> {
  if (mode !== "split") return { dns: mode, note: null };
  const domains = [...new Set([...(await readLocal()), ...userDomains.map(normalizeDomain)])];
  if (domains.length === 0)
    return {
      dns: "all",
      note:
        "split DNS: this computer names no search or VPN domain, so every name the remote looks up " +
        "goes through the link (as --dns all); name your domains (--dns-domain, or Settings → DNS) " +
        "to keep the others on the remote",
    };
  return {
    dns: "split",
    dnsDomains: domains,
    note: `split DNS: names under ${domains.join(", ")} and reverse lookups of the advertised prefixes go through the link; the remote resolves the rest itself`,
  };
}
