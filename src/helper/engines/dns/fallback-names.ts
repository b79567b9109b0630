/**
 * Which names the getaddrinfo fallback may ask about. getaddrinfo also answers from /etc/hosts,
 * mDNS (.local), LLMNR and NetBIOS (single labels): names of this computer's own links, which the
 * remote did not ask for and whose networks need not be advertised. The fallback is there for
 * names a VPN resolves only through the OS (macOS scoped resolvers, NRPT, nss modules): those are
 * fully qualified, or a single label under one of this computer's search domains.
 */

/** Names getaddrinfo is asked about: hostname characters only, nothing that needs escaping. */
const LOOKUP_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/**
 * Never this computer's to answer (RFC 6761, 6762, 7686, 8375): the remote's own localhost,
 * multicast DNS on this computer's links, reverse and home-network zones, names that must not
 * resolve.
 */
const NOT_FOR_GETADDRINFO = /(^|\.)(localhost|local|arpa|invalid|onion)$/;

/**
 * The names to ask getaddrinfo, in order, for `name` (lower case, with or without the trailing
 * dot): none when the fallback must not answer it.
 */
export function fallbackNames(name: string, searchDomains: readonly string[]): string[] {
  const bare = name.endsWith(".") ? name.slice(0, -1) : name;
  if (!LOOKUP_NAME.test(bare) || NOT_FOR_GETADDRINFO.test(bare)) return [];
  if (bare.includes(".")) return [bare];
  // A single label: as this computer would complete it, never bare (that would go to LLMNR).
  return searchDomains
    .map((domain) => domain.toLowerCase().replace(/^\.+|\.+$/g, ""))
    .filter((domain) => domain !== "" && LOOKUP_NAME.test(domain))
    .map((domain) => `${bare}.${domain}`)
    .filter((candidate) => !NOT_FOR_GETADDRINFO.test(candidate));
}
