// Which advertised prefixes the agent routes into the TUN, given the remote's own routing.
//
// A prefix is NOT routed, and comes back with a reason for the user, when:
// - it lies inside (or equals) a network the remote is on: a connected or on-link route, or
//   one of its own addresses. Routing it would cut the remote off from its own neighbours;
// - it contains the SSH peer, or the gateway the remote reaches the peer through: the link's
//   own packets would be sent into the link;
// - the remote's main table already has a route for exactly that prefix: we do not replace it.
// A prefix WIDER than a remote network is routed: the kernel picks the longest match, so the
// narrower network stays on its interface. Such networks are listed with the route.
import { execFileRunner, type CommandRunner } from "../system/command.js";
import {
  containsAddress,
  containsPrefix,
  formatPrefix,
  parseAddress,
  parsePrefix,
  type Prefix,
} from "../engines/routes/cidr.js";
import { destinationPrefix } from "../engines/routes/entry.js";

export interface RemoteNetwork {
  /** Canonical CIDR. */
  prefix: string;
  dev: string | null;
  /** "connected": an on-link route; "address": the remote's own address (table local). */
  kind: "connected" | "address";
}

export interface ExistingRoute {
  prefix: string;
  /** As `ip route` would print it, for messages: "198.18.9.0/24 via 198.18.1.1 dev eth0". */
  description: string;
}

export interface LinkPathAddress {
  address: string;
  role: "SSH peer" | "gateway to the SSH peer";
}

export interface RemoteRouting {
  networks: RemoteNetwork[];
  /** Every route in the main table, whatever its type. */
  mainRoutes: ExistingRoute[];
  linkPath: LinkPathAddress[];
}

export type SkipReason = "invalid" | "inside-remote-network" | "contains-link-path" | "already-routed";

export interface SkippedPrefix {
  prefix: string;
  reason: SkipReason;
  /** One sentence for the user: which prefix, and why it is not routed. */
  message: string;
}

export interface PlannedRoute {
  prefix: string;
  /** Remote networks inside the prefix that keep going to their own interface. */
  keptLocal: RemoteNetwork[];
}

export interface RoutePlan {
  route: PlannedRoute[];
  skip: SkippedPrefix[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(record: Record<string, unknown>, key: string): string | null {
  const value = record[key];
  return typeof value === "string" ? value : null;
}

function parseJsonList(output: string, command: string): Record<string, unknown>[] {
  if (output.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch (error) {
    throw new Error(`\`${command}\` did not print JSON: iproute2 4.17 or later is needed`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new Error(`\`${command}\` printed JSON that is not a list`);
  return parsed.filter(isRecord);
}

/**
 * Reads `ip -j -4|-6 route show table all`. Routes on `ownDev` (the TUN) are the agent's own and
 * are left out, so that planning again after routes were added gives the same answer.
 */
export function parseRouteTable(
  output: string,
  family: 4 | 6,
  ownDev: string,
): Pick<RemoteRouting, "networks" | "mainRoutes"> {
  const networks: RemoteNetwork[] = [];
  const mainRoutes: ExistingRoute[] = [];
  for (const route of parseJsonList(output, `ip -j -${family} route show table all`)) {
    const dst = text(route, "dst");
    const dev = text(route, "dev");
    if (dst === null || dev === ownDev) continue;
    const prefix = dst === "default" ? { family, network: 0n, length: 0 } : destinationPrefix(dst, family);
    if (prefix === null) continue;
    const type = text(route, "type") ?? "unicast";
    const gateway = text(route, "gateway") ?? (isRecord(route.via) ? text(route.via, "host") : null);
    const multipath = Array.isArray(route.nexthops);
    const canonical = formatPrefix(prefix);
    if (type === "local") networks.push({ prefix: canonical, dev, kind: "address" });
    if (type === "unicast" && prefix.length > 0 && gateway === null && !multipath && dev !== null) {
      networks.push({ prefix: canonical, dev, kind: "connected" });
    }
    const table = text(route, "table") ?? "main";
    if (table === "main") {
      const words = [
        type === "unicast" ? "" : type,
        dst,
        gateway ? `via ${gateway}` : "",
        dev ? `dev ${dev}` : "",
      ];
      mainRoutes.push({ prefix: canonical, description: words.filter(Boolean).join(" ") });
    }
  }
  return { networks, mainRoutes };
}

/** Reads `ip -j route get PEER`: the peer itself, and the gateway the remote sends it to. */
export function parsePeerRoute(output: string, peer: string, ownDev: string): LinkPathAddress[] {
  const path: LinkPathAddress[] = [{ address: peer, role: "SSH peer" }];
  const [route] = parseJsonList(output, `ip -j route get ${peer}`);
  const gateway = route === undefined ? null : text(route, "gateway");
  if (gateway !== null && route !== undefined && text(route, "dev") !== ownDev) {
    path.push({ address: gateway, role: "gateway to the SSH peer" });
  }
  return path;
}

export interface ReadRemoteRoutingOptions {
  /** The TUN device: its routes are the agent's own. */
  ownDev: string;
  /** The address the SSH connection comes from (SSH_CONNECTION's first word), if known. */
  sshPeer?: string;
  run?: CommandRunner;
}

export async function readRemoteRouting(options: ReadRemoteRoutingOptions): Promise<RemoteRouting> {
  const run = options.run ?? execFileRunner;
  const routing: RemoteRouting = { networks: [], mainRoutes: [], linkPath: [] };
  for (const family of [4, 6] as const) {
    const output = await run("ip", ["-j", `-${family}`, "route", "show", "table", "all"]);
    const table = parseRouteTable(output, family, options.ownDev);
    routing.networks.push(...table.networks);
    routing.mainRoutes.push(...table.mainRoutes);
  }
  if (options.sshPeer !== undefined) {
    const output = await run("ip", ["-j", "route", "get", options.sshPeer]).catch(() => "");
    routing.linkPath = parsePeerRoute(output, options.sshPeer, options.ownDev);
  }
  return routing;
}

interface ParsedNetwork {
  network: RemoteNetwork;
  parsed: Prefix;
}

function containsLinkPath(prefix: Prefix, address: string): boolean {
  const parsed = parseAddress(address);
  return parsed !== null && containsAddress(prefix, parsed.family, parsed.value);
}

/** The networks inside `prefix`, without those inside another listed one. */
function keptLocal(prefix: Prefix, networks: readonly ParsedNetwork[]): RemoteNetwork[] {
  const inside = networks.filter(({ parsed }) => containsPrefix(prefix, parsed));
  const kept = new Map<string, RemoteNetwork>();
  for (const { network, parsed } of inside) {
    const covered = inside.some(
      (other) => other.parsed.length < parsed.length && containsPrefix(other.parsed, parsed),
    );
    if (!covered && !kept.has(network.prefix)) kept.set(network.prefix, network);
  }
  return [...kept.values()];
}

function why(prefix: string, reason: SkipReason, message: string): SkippedPrefix {
  return { prefix, reason, message: `${prefix} is not routed: ${message}` };
}

function skipReason(
  prefix: Prefix,
  canonical: string,
  remote: RemoteRouting,
  networks: readonly ParsedNetwork[],
): SkippedPrefix | null {
  const hop = remote.linkPath.find(({ address }) => containsLinkPath(prefix, address));
  if (hop !== undefined) {
    return why(
      canonical,
      "contains-link-path",
      `it contains the ${hop.role} ${hop.address}, so the link's own traffic would go into the link`,
    );
  }
  // The narrowest network holding it names the reason best: an own address before its subnet.
  const home = networks
    .filter(({ parsed }) => containsPrefix(parsed, prefix))
    .sort((a, b) => b.parsed.length - a.parsed.length)[0];
  if (home !== undefined) {
    const { network } = home;
    const where = network.dev === null ? "" : ` on ${network.dev}`;
    const what =
      network.kind === "address"
        ? `the remote's own address range ${network.prefix}${where}`
        : `${network.prefix}, a network the remote is connected to${where}`;
    return why(
      canonical,
      "inside-remote-network",
      `it lies inside ${what}; the remote keeps reaching it directly`,
    );
  }
  const existing = remote.mainRoutes.find((route) => route.prefix === canonical);
  if (existing !== undefined) {
    return why(
      canonical,
      "already-routed",
      `the remote has its own route for it (${existing.description}), which backhaul does not replace`,
    );
  }
  return null;
}

/** Decides, for each advertised prefix, whether it goes into the TUN; duplicates count once. */
export function planRoutes(advertised: readonly string[], remote: RemoteRouting): RoutePlan {
  const plan: RoutePlan = { route: [], skip: [] };
  const networks = remote.networks.map((network) => ({ network, parsed: parsePrefix(network.prefix) }));
  const seen = new Set<string>();
  for (const input of advertised) {
    let prefix: Prefix;
    try {
      prefix = parsePrefix(input);
    } catch (error) {
      plan.skip.push({
        prefix: input,
        reason: "invalid",
        message: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    const canonical = formatPrefix(prefix);
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    const skipped = skipReason(prefix, canonical, remote, networks);
    if (skipped !== null) plan.skip.push(skipped);
    else plan.route.push({ prefix: canonical, keptLocal: keptLocal(prefix, networks) });
  }
  return plan;
}
