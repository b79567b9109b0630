// Which prefixes `--remote-route` may send into this computer's TUN. A route there takes traffic
// away from this computer's own paths, so three kinds are refused, each with the reason:
//   - a default route (/0): everything, the link to the remote included, would enter the tunnel;
//   - a prefix holding a gateway of this computer's default route: the packets that carry the
//     link (and everything else) go through that gateway, and would loop into the tunnel;
//   - a prefix overlapping the session's link subnet: the tunnel's own addresses live there.
// Main checks the syntax for a usage error at once; the helper, which makes the routes, checks
// all of it against the routes it reads itself.
import { containsAddress, formatPrefix, overlaps, parseAddress, parsePrefix, type Prefix } from "./cidr.js";
import { CidrError } from "./errors.js";

export interface RemoteRouteFacts {
  /** Gateways of this computer's default routes (IPv4 and IPv6), as addresses. */
  defaultGateways: readonly string[];
  /** The session's link subnets, e.g. "100.87.53.0/30", "fd62:6b68:6c00::/64". */
  linkSubnets: readonly string[];
}

export class RemoteRouteError extends Error {
  override readonly name = "RemoteRouteError";
  constructor(readonly problems: readonly string[]) {
    super(`--remote-route: ${problems.join("; ")}`);
  }
}

/** The prefixes, normalised and without repeats; throws a CidrError for one that does not parse. */
export function parseRemoteRoutes(texts: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const text of texts) seen.add(formatPrefix(parsePrefix(text.trim())));
  return [...seen];
}

/** Why `text` must not be routed into the tunnel, or null when it may. */
export function remoteRouteProblem(text: string, facts: RemoteRouteFacts): string | null {
  let prefix: Prefix;
  try {
    prefix = parsePrefix(text);
  } catch (error) {
    return error instanceof CidrError ? error.message : String(error);
  }
  if (prefix.length === 0) {
    return `${text} is a default route: every connection of this computer, the link to the remote included, would go into the tunnel`;
  }
  for (const gateway of facts.defaultGateways) {
    const address = parseAddress(gateway);
    if (address !== null && containsAddress(prefix, address.family, address.value)) {
      return `${text} holds ${gateway}, the gateway of this computer's default route: the link to the remote goes through it and would loop into the tunnel`;
    }
  }
  for (const subnet of facts.linkSubnets) {
    if (overlaps(prefix, parsePrefix(subnet))) {
      return `${text} overlaps the session's link subnet ${subnet}, where the tunnel's own addresses are (choose another with --link-subnet)`;
    }
  }
  return null;
}

/** The normalised prefixes when every one may be routed; else a RemoteRouteError naming each problem. */
export function checkRemoteRoutes(texts: readonly string[], facts: RemoteRouteFacts): string[] {
  const problems = texts.flatMap((text) => remoteRouteProblem(text, facts) ?? []);
  if (problems.length > 0) throw new RemoteRouteError(problems);
  return parseRemoteRoutes(texts);
}
