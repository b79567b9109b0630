/**
 * Whether the local helper must run elevated. Two features need it: a TUN on this computer
 * (`--remote-route`, `--remote-dns-domain`: a device, routes and resolver rules, on every OS), and
 * ICMP echo on Linux where
 * net.ipv4.ping_group_range does not include the user (then only raw sockets, i.e. root, can ping;
 * the unelevated fallback is the `ping` command, one process per echo). macOS allows unprivileged
 * ICMP sockets and Windows uses the ping command, so neither elevates.
 */
import { readFileSync } from "node:fs";

export interface ElevationInput {
  platform: NodeJS.Platform;
  /** null where there are no POSIX ids (Windows). */
  uid: number | null;
  /** The user's groups (primary first). */
  gids: number[];
  /** net.ipv4.ping_group_range as [low, high]; null when unknown. */
  pingGroupRange: [number, number] | null;
  /** A session asks for a TUN on this computer (--remote-route). */
  tun?: boolean;
}

export interface ElevationDecision {
  elevate: boolean;
  reason: string;
}

export function helperElevation(input: ElevationInput): ElevationDecision {
  if (input.tun && input.uid !== 0)
    return {
      elevate: true,
      reason: "--remote-route needs a TUN device, routes and resolver rules on this computer",
    };
  if (input.platform !== "linux")
    return { elevate: false, reason: `${input.platform}: ICMP echo needs no privileges` };
  if (input.uid === 0) return { elevate: false, reason: "already running as root" };
  const range = input.pingGroupRange;
  if (range === null)
    return {
      elevate: false,
      reason: "ping_group_range is unknown; ICMP echo falls back to the ping command",
    };
  const [low, high] = range;
  if (input.gids.some((gid) => gid >= low && gid <= high))
    return { elevate: false, reason: `unprivileged ICMP is allowed (ping_group_range ${low} ${high})` };
  return {
    elevate: true,
    reason:
      `this computer forbids unprivileged ICMP (net.ipv4.ping_group_range = ${low} ${high}): ` +
      "pings from the remote need the helper to run elevated",
  };
}

/** The facts about this computer that helperElevation decides on. */
export function currentElevationInput(): ElevationInput {
  let pingGroupRange: [number, number] | null = null;
  if (process.platform === "linux") {
    try {
      const [low, high] = readFileSync("/proc/sys/net/ipv4/ping_group_range", "utf8")
        .trim()
        .split(/\s+/)
        .map(Number);
      if (Number.isInteger(low) && Number.isInteger(high)) pingGroupRange = [low as number, high as number];
    } catch {
      pingGroupRange = null;
    }
  }
  return {
    platform: process.platform,
    uid: process.getuid?.() ?? null,
    gids: process.getgroups?.() ?? [],
    pingGroupRange,
  };
}
