// Which of this computer's routes the remote should send into its tunnel: the LAN and VPN
// prefixes, without what makes no sense on another host, plus and minus the user's own choices.
import {
  addressWidth,
  comparePrefixes,
  containsPrefix,
  formatPrefix,
  parsePrefix,
  subtractAll,
} from "../../../helper/engines/routes/cidr.js";
import type { Prefix } from "../../../helper/engines/routes/cidr.js";
import { CidrError } from "../../../helper/engines/routes/errors.js";
import type { RouteEntry, RouteSource } from "../../../helper/engines/routes/types.js";
import { LOCAL_TUN_PREFIX } from "../../../helper/local/local-journal.js";

export interface AdvertiseOptions {
  /** The user's `--route` prefixes, advertised whether or not a route covers them. */
  include?: readonly string[];
  /** The user's `--exclude` prefixes: never advertised; wider prefixes are split around them. */
  exclude?: readonly string[];
  /**
   * A full-tunnel VPN installs 0.0.0.0/1 + 128.0.0.0/1 (and ::/1 + 8000::/1) to win over the
   * default route without replacing it. "keep" (the default) advertises them, as they are real
   * VPN routes: the remote then sends all its traffic here, as this computer does to the VPN.
   */
  splitDefaults?: "keep" | "drop";
}

/** Ranges that mean something only on the host itself or its own link. */
const UNROUTABLE: ReadonlyArray<{ prefix: Prefix; what: string }> = (
  [
    ["0.0.0.0/8", "the unspecified network"],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local"],
    ["224.0.0.0/4", "multicast"],
    ["255.255.255.255/32", "the broadcast address"],
    ["::/128", "the unspecified address"],
    ["::1/128", "loopback"],
    ["fe80::/10", "link-local"],
    ["ff00::/8", "multicast"],
  ] as const
).map(([cidr, what]) => ({ prefix: parsePrefix(cidr), what }));

function unroutableRange(prefix: Prefix): string | null {
  return UNROUTABLE.find((range) => containsPrefix(range.prefix, prefix))?.what ?? null;
}

/**
 * This computer's own entrances into remotes (`--remote-route`'s TUNs, bhlN on Linux:
 * local-journal.ts): their routes and link subnets lead into another session's remote, and
 * advertising them would let one remote reach another's private networks through this computer.
 * (macOS and Windows let the OS name the device, utunN or the Wintun adapter: there each session
 * excludes only its own, in its caller.)
 */
const LOCAL_ENTRANCE = new RegExp(`^${LOCAL_TUN_PREFIX}\\d+$`);

export function isLocalEntrance(entry: RouteEntry): boolean {
  return entry.interface !== null && LOCAL_ENTRANCE.test(entry.interface);
}

/** True for one half of a split default route (0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1). */
export function isSplitDefault(prefix: string): boolean {
  return parsePrefix(prefix).length === 1;
}

/** Parses the user's prefixes; throws a CidrError naming the first one that is wrong and why. */
function parseIncludes(include: readonly string[]): Prefix[] {
  return include.map((text) => {
    const prefix = parsePrefix(text);
    const what = unroutableRange(prefix);
    if (what !== null) throw new CidrError(text, `it is ${what}, which another computer cannot route here`);
    return prefix;
  });
}

interface Candidate {
  prefix: Prefix;
  entry: RouteEntry;
}

// When the same prefix comes from several sources, the route table's entry (with its gateway) is kept.
const SOURCE_RANK: Record<RouteSource, number> = { "route-table": 0, connected: 1, user: 2, local: 3 };

function worthAdvertising(
  prefix: Prefix,
  localHosts: ReadonlySet<string>,
  options: AdvertiseOptions,
): boolean {
  if (prefix.length === 0) return false;
  if (prefix.length === 1 && options.splitDefaults === "drop") return false;
  if (unroutableRange(prefix) !== null) return false;
  return !(prefix.length === addressWidth(prefix.family) && localHosts.has(formatPrefix(prefix)));
}

/**
 * The routes to advertise, sorted (IPv4 first, then by address) and free of overlaps: defaults,
 * loopback, link-local, multicast, broadcast and host routes to this computer's own addresses
 * are dropped; duplicates and prefixes inside a wider one are merged into it; then the excluded
 * prefixes are cut out. Entries must hold canonical prefixes (as the readers produce); entries
 * with source "user" are kept as given. Throws CidrError for an invalid include or exclude.
 */
export function advertisableRoutes(
  entries: readonly RouteEntry[],
  options: AdvertiseOptions = {},
): RouteEntry[] {
  const includes = parseIncludes(options.include ?? []);
  const excludes = (options.exclude ?? []).map((text) => parsePrefix(text));
  const localHosts = new Set(
    entries.filter((entry) => entry.source === "local").map((entry) => entry.prefix),
  );

  const candidates: Candidate[] = [];
  for (const entry of entries) {
    if (entry.source === "local" || isLocalEntrance(entry)) continue;
    const prefix = parsePrefix(entry.prefix);
    if (entry.source === "user" || worthAdvertising(prefix, localHosts, options))
      candidates.push({ prefix, entry });
  }
  for (const prefix of includes) {
    const entry: RouteEntry = {
      prefix: formatPrefix(prefix),
      family: prefix.family,
      interface: null,
      gateway: null,
      source: "user",
    };
    candidates.push({ prefix, entry });
  }
  candidates.sort(
    (a, b) =>
      comparePrefixes(a.prefix, b.prefix) || SOURCE_RANK[a.entry.source] - SOURCE_RANK[b.entry.source],
  );

  // Sorted with wider prefixes first, anything inside a kept prefix is inside the last one kept.
  const kept: Candidate[] = [];
  for (const candidate of candidates) {
    const last = kept.at(-1);
    if (last === undefined || !containsPrefix(last.prefix, candidate.prefix)) kept.push(candidate);
  }
  return kept.flatMap(({ prefix, entry }) =>
    subtractAll([prefix], excludes).map((piece) => ({
      ...entry,
      prefix: formatPrefix(piece),
      family: piece.family,
    })),
  );
}
