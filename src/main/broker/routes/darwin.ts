// macOS: `netstat -rn -f inet|inet6`. Columns are found from the header, since older releases
// add Refs and Use; destinations use BSD's short forms ("127", "10.8/16", "fe80::%utun0/64").
import type { Prefix } from "../../../helper/engines/routes/cidr.js";
import {
  defaultPrefix,
  destinationPrefix,
  gatewayAddress,
  makeEntry,
} from "../../../helper/engines/routes/entry.js";
import type { ReadRouteTable, RouteEntry } from "../../../helper/engines/routes/types.js";

const NETSTAT = "/usr/sbin/netstat";

const SECTION_FAMILY: Record<string, 4 | 6> = { "Internet:": 4, "Internet6:": 6 };

/**
 * Entries that are not configured routes: W (cloned: neighbour and host-cache entries made on
 * use), R (reject), B (blackhole), b (broadcast address).
 */
const SKIPPED_FLAGS = /[WRBb]/;

/**
 * An IPv4 destination as netstat prints it: trailing zero octets left out, and no "/len" when
 * the mask is the address's classful one (A /8, B /16, else /24) or, with flag H, a host's.
 */
function ipv4Destination(text: string, flags: string): Prefix | null {
  const slash = text.indexOf("/");
  const octets = (slash < 0 ? text : text.slice(0, slash)).split(".");
  if (octets.length > 4 || !octets.every((octet) => /^\d{1,3}$/.test(octet))) return null;
  const firstOctet = Number(octets[0]);
  while (octets.length < 4) octets.push("0");
  let length: string;
  if (slash >= 0) length = text.slice(slash + 1);
  else if (flags.includes("H")) length = "32";
  else length = firstOctet < 128 ? "8" : firstOctet < 192 ? "16" : "24";
  return destinationPrefix(`${octets.join(".")}/${length}`, 4);
}

function parseRow(tokens: readonly string[], netifColumn: number, family: 4 | 6): RouteEntry | null {
  const [destination, gateway, flags] = tokens;
  const netif = tokens[netifColumn];
  if (destination === undefined || gateway === undefined || flags === undefined || netif === undefined) {
    return null;
  }
  if (!flags.includes("U") || SKIPPED_FLAGS.test(flags)) return null;
  let prefix: Prefix | null;
  if (destination === "default") prefix = defaultPrefix(family);
  else if (family === 4) prefix = ipv4Destination(destination, flags);
  else prefix = destinationPrefix(destination, 6);
  if (prefix === null) return null;
  // Without G the gateway column holds the interface's own address or link, not a next hop.
  return makeEntry(prefix, netif, flags.includes("G") ? gatewayAddress(gateway) : null, "route-table");
}

/** Parses the `family` section of `netstat -rn` output (either one section, or the whole table). */
export function parseNetstatRoutes(text: string, family: 4 | 6): RouteEntry[] {
  const entries: RouteEntry[] = [];
  let section: 4 | 6 | null = family;
  let netifColumn: number | null = null;
  for (const line of text.split(/\r?\n/)) {
    const tokens = line.trim().split(/\s+/);
    const first = tokens[0];
    if (first === undefined || first === "") {
      netifColumn = null;
    } else if (tokens.length === 1 && first.endsWith(":")) {
      section = SECTION_FAMILY[first] ?? null;
      netifColumn = null;
    } else if (first === "Destination") {
      const column = tokens.indexOf("Netif");
      netifColumn = column < 0 ? null : column;
    } else if (netifColumn !== null && section === family) {
      const entry = parseRow(tokens, netifColumn, family);
      if (entry !== null) entries.push(entry);
    }
  }
  return entries;
}

export const readDarwinRoutes: ReadRouteTable = async (run) => {
  const [v4, v6] = await Promise.all([
    run(NETSTAT, ["-rn", "-f", "inet"]),
    run(NETSTAT, ["-rn", "-f", "inet6"]),
  ]);
  return [...parseNetstatRoutes(v4, 4), ...parseNetstatRoutes(v6, 6)];
};
