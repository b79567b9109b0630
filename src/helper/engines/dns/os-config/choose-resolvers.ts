/**
 * Which of this computer's resolvers a name goes to, for every record type, the way the OSes
 * decide: the resolvers whose domain is the longest suffix of the name (macOS's supplemental
 * resolvers, Windows's NRPT rules and adapter suffixes, resolved's routing domains, `~.` as a
 * match of length zero), the lowest `order` first among equals; else the default resolvers. A
 * match without servers (an NRPT exemption) means the default resolvers.
 *
 * Scoped resolvers (macOS) serve only programs bound to their interface and are never chosen by
 * name, with one exception: when no default resolver has a server at all (an OpenVPN client that
 * put its servers only in a scoped resolver), their servers are the defaults, since the
 * alternative is answering nothing.
 */
import type { Upstream } from "../upstream.js";
import { normalizeDomain, uniqueServers, type OsDnsConfig, type OsResolver } from "./os-dns-config.js";

export interface ResolverChoice {
  /** In the order to ask them; empty when this computer has none. */
  servers: Upstream[];
  /** The domain that chose them; null for the default resolvers. */
  domain: string | null;
  /** The OS resolvers they came from ("scutil resolver #2 (utun4)"). */
  sources: string[];
}

export function chooseResolvers(config: OsDnsConfig, name: string): ResolverChoice {
  const target = normalizeDomain(name);
  let bestLength = -1;
  let bestDomain = "";
  let matched: OsResolver[] = [];
  for (const resolver of config.resolvers) {
    if (resolver.scoped) continue;
    for (const domain of resolver.domains) {
      const length = matchLength(target, domain);
      if (length < 0 || length < bestLength) continue;
      if (length > bestLength) {
        bestLength = length;
        bestDomain = domain;
        matched = [];
      }
      if (!matched.includes(resolver)) matched.push(resolver);
    }
  }
  const withServers = matched.filter((resolver) => resolver.servers.length > 0);
  if (withServers.length > 0) return choice(withServers, bestDomain);
  const defaults = config.resolvers.filter(
    (resolver) => !resolver.scoped && resolver.domains.length === 0 && resolver.servers.length > 0,
  );
  if (defaults.length > 0) return choice(defaults, null);
  return choice(
    config.resolvers.filter((resolver) => resolver.scoped && resolver.servers.length > 0),
    null,
  );
}

/** How many labels of `domain` end `name`; -1 when it does not; 0 for ".". */
function matchLength(name: string, domain: string): number {
  if (domain === ".") return 0;
  if (domain === "") return -1;
  if (name !== domain && !name.endsWith(`.${domain}`)) return -1;
  return domain.split(".").length;
}

function choice(resolvers: OsResolver[], domain: string | null): ResolverChoice {
  // A stable sort: scutil's order where it gives one, the OS's listing order otherwise.
  const ordered = [...resolvers].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  return {
    servers: uniqueServers(ordered.flatMap((resolver) => resolver.servers)),
    domain,
    sources: ordered.map((resolver) =>
      resolver.interface === undefined ? resolver.source : `${resolver.source} (${resolver.interface})`,
    ),
  };
}
