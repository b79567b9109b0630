// Linux: the main routing table from iproute2, as JSON (`ip -j`, iproute2 4.17 and later) or,
// where `-j` is unknown or ignored (older iproute2, BusyBox), as the text form `ip route show`.
// Policy-routing tables other than main (wg-quick's full tunnel, Tailscale's table 52) are not read.
import type { Prefix } from "../../../helper/engines/routes/cidr.js";
import {
  defaultPrefix,
  destinationPrefix,
  gatewayAddress,
  makeEntry,
} from "../../../helper/engines/routes/entry.js";
import { RouteTableError } from "../../../helper/engines/routes/errors.js";
import type { CommandRunner, ReadRouteTable, RouteEntry } from "../../../helper/engines/routes/types.js";

/** A route with these flags carries no traffic: its device is down, or its next hop is dead. */
const UNUSABLE_FLAGS = new Set(["linkdown", "dead"]);

/** Words that may open a line of `ip route show` before the destination. */
const ROUTE_TYPES = new Set([
  "unicast",
  "local",
  "broadcast",
  "multicast",
  "throw",
  "unreachable",
  "prohibit",
  "blackhole",
  "nat",
  "anycast",
]);

interface Hop {
  dev: string | null;
  gateway: string | null;
  usable: boolean;
}

interface RawRoute {
  /** "unicast" unless the route says otherwise; only unicast routes forward traffic. */
  type: string;
  dst: string;
  hops: Hop[];
}

function toEntry(route: RawRoute, family: 4 | 6): RouteEntry | null {
  if (route.type !== "unicast") return null;
  const prefix: Prefix | null =
    route.dst === "default" ? defaultPrefix(family) : destinationPrefix(route.dst, family);
  // Multipath routes: the first live next hop stands for the route.
  const hop = route.hops.find((candidate) => candidate.usable);
  if (prefix === null || hop === undefined) return null;
  return makeEntry(prefix, hop.dev, gatewayAddress(hop.gateway), "route-table");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringField(record: Record<string, unknown>, key: string): string | null {
  const value = record[key];
  return typeof value === "string" ? value : null;
}

function jsonHop(record: Record<string, unknown>): Hop {
  // "via" is an object when the next hop's family differs from the route's (RFC 5549).
  const via = record["via"];
  const viaHost = isRecord(via) ? stringField(via, "host") : null;
  const flags = Array.isArray(record["flags"]) ? record["flags"] : [];
  return {
    dev: stringField(record, "dev"),
    gateway: stringField(record, "gateway") ?? viaHost,
    usable: !flags.some((flag) => typeof flag === "string" && UNUSABLE_FLAGS.has(flag)),
  };
}

/** Parses `ip -j -4|-6 route show table main`. Entries it cannot read are skipped. */
export function parseIpRouteJson(text: string, family: 4 | 6): RouteEntry[] {
  if (text.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RouteTableError("unparsable-output", "`ip -j route` printed invalid JSON", { cause: error });
  }
  if (!Array.isArray(parsed)) {
    throw new RouteTableError("unparsable-output", "`ip -j route` printed JSON that is not a list of routes");
  }
  const entries: RouteEntry[] = [];
  for (const item of parsed) {
    if (!isRecord(item)) continue;
    const dst = stringField(item, "dst");
    if (dst === null) continue;
    const nexthops = Array.isArray(item["nexthops"]) ? item["nexthops"].filter(isRecord) : [];
    const hops = nexthops.length > 0 ? nexthops.map(jsonHop) : [jsonHop(item)];
    const entry = toEntry({ type: stringField(item, "type") ?? "unicast", dst, hops }, family);
    if (entry !== null) entries.push(entry);
  }
  return entries;
}

function valueAfter(tokens: readonly string[], keyword: string): string | null {
  const index = tokens.indexOf(keyword);
  if (index < 0) return null;
  const value = tokens[index + 1];
  // "via inet6 fe80::1": a family word may sit between the keyword and the address.
  if (keyword === "via" && (value === "inet" || value === "inet6")) return tokens[index + 2] ?? null;
  return value ?? null;
}

function textHop(tokens: readonly string[]): Hop {
  return {
    dev: valueAfter(tokens, "dev"),
    gateway: valueAfter(tokens, "via"),
    usable: !tokens.some((token) => UNUSABLE_FLAGS.has(token)),
  };
}

/** Parses `ip -4|-6 route show table main`; "nexthop" continuation lines form multipath routes. */
export function parseIpRouteText(text: string, family: 4 | 6): RouteEntry[] {
  const routes: Array<RawRoute & { nexthops: Hop[] }> = [];
  for (const line of text.split(/\r?\n/)) {
    const tokens = line.trim().split(/\s+/);
    const first = tokens[0];
    if (first === undefined || first === "") continue;
    if (/^\s/.test(line)) {
      const last = routes.at(-1);
      if (first === "nexthop" && last !== undefined) last.nexthops.push(textHop(tokens.slice(1)));
      continue;
    }
    const typed = ROUTE_TYPES.has(first);
    const dst = typed ? tokens[1] : first;
    if (dst === undefined) continue;
    const rest = tokens.slice(typed ? 2 : 1);
    routes.push({ type: typed ? first : "unicast", dst, hops: [textHop(rest)], nexthops: [] });
  }
  const entries: RouteEntry[] = [];
  for (const route of routes) {
    const hops = route.nexthops.length > 0 ? route.nexthops : route.hops;
    const entry = toEntry({ type: route.type, dst: route.dst, hops }, family);
    if (entry !== null) entries.push(entry);
  }
  return entries;
}

// Desktop sessions on some distributions lack /usr/sbin in PATH, where `ip` lives on Fedora.
const IP_PATHS = ["ip", "/usr/sbin/ip", "/sbin/ip"];

async function runIp(run: CommandRunner, args: readonly string[]): Promise<string> {
  let notFound: unknown;
  for (const path of IP_PATHS) {
    try {
      return await run(path, args);
    } catch (error) {
      if (!(error instanceof RouteTableError) || error.code !== "command-not-found") throw error;
      notFound = error;
    }
  }
  throw new RouteTableError("command-not-found", "`ip` was not found: install iproute2", { cause: notFound });
}

async function readFamily(run: CommandRunner, family: 4 | 6): Promise<RouteEntry[]> {
  const args = [`-${family}`, "route", "show", "table", "main"];
  let output: string;
  try {
    output = await runIp(run, ["-j", ...args]);
  } catch (error) {
    if (!(error instanceof RouteTableError) || error.code !== "command-failed") throw error;
    try {
      return parseIpRouteText(await runIp(run, args), family);
    } catch (textError) {
      // A kernel booted with IPv6 disabled has no IPv6 table: nothing to advertise.
      const noIpv6 = textError instanceof Error && /address family not supported/i.test(textError.message);
      if (family === 6 && noIpv6) return [];
      throw textError;
    }
  }
  // Older iproute2 accepts -j for some objects only and prints text for routes.
  return output.trimStart().startsWith("[")
    ? parseIpRouteJson(output, family)
    : parseIpRouteText(output, family);
}

export const readLinuxRoutes: ReadRouteTable = async (run) => {
  const [v4, v6] = await Promise.all([readFamily(run, 4), readFamily(run, 6)]);
  return [...v4, ...v6];
};
