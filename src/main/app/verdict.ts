/**
 * The one sentence "Can the remote reach …?" ends with, from both ends' findings: what is wrong
 * first (a name nobody resolves, an address the remote keeps to itself, a refused port), and what
 * to do about it. Pure: diagnostics.ts gathers the findings, this decides.
 */
import ipaddr from "ipaddr.js";
import type { DiagnoseResult, DiagnoseVerdict, RemoteSide } from "../../shared/api.js";
import type { RefusalReason } from "../../helper/engines/nat/egress-policy.js";

export interface VerdictInput {
  result: Omit<DiagnoseResult, "summary" | "verdict">;
  /** The egress policy's refusal of the address, or null when it allows it. */
  refusal: RefusalReason | null;
  port: number;
  excludes: readonly string[];
  connected: boolean;
  /** How long a connect may take before it counts as no answer, in seconds. */
  connectTimeoutS: number;
}

export interface Verdict {
  verdict: DiagnoseVerdict;
  summary: string;
}

export const REASONS: Record<RefusalReason, string> = {
  "not-advertised": "not in the advertised prefixes",
  "not-unicast": "not a unicast address",
  loopback: "a loopback address of this computer",
  "link-local": "a link-local address",
  "this-computer": "one of this computer's own addresses",
};

export function decideVerdict(input: VerdictInput): Verdict {
  const { result } = input;
  const remote = result.remote;
  const name = result.host;
  const address = result.address;
  if (address === null) return unresolvable(input);

  const dnsProblem = remoteDnsProblem(input);
  if (dnsProblem !== null) return dnsProblem;

  const policy = policyVerdict(input, address);
  if (policy !== null) return policy;

  if (remote !== null && remote.entrance === "tun" && remote.route !== null && !remote.route.viaTunnel)
    return { verdict: "remote-route", summary: remoteRouteSentence(remote.address ?? address, remote.route) };

  const remoteConnect = remote?.connect ?? null;
  const connect = remoteConnect ?? result.connect;
  const from = remoteConnect ? "the remote" : "this computer";
  const target = `${name === address ? address : `${name} (${address})`}`;
  if (connect !== null && !connect.ok) {
    const code = remoteConnect?.code ?? errnoOf(result.connect?.error ?? null);
    if (code === "ECONNREFUSED" || errnoOf(result.connect?.error ?? null) === "ECONNREFUSED")
      return {
        verdict: "refused",
        summary: `${target} refused the connection on port ${input.port}: nothing listens there, or a firewall rejects it — check the service on ${address}.`,
      };
    if (code === "ETIMEDOUT")
      return {
        verdict: "timeout",
        summary: `${target} did not answer on port ${input.port} within ${input.connectTimeoutS} s (a connect from ${from}): a firewall drops it, or the host is down.`,
      };
    return {
      verdict: "unreachable",
      summary:
        `${address} is advertised${result.prefix ? ` (${result.prefix})` : ""}, but ${from} cannot connect to ` +
        `port ${input.port} (${connect.error ?? "unknown error"}): check that the service runs and that no firewall blocks it.`,
    };
  }

  const via = result.route?.interface ? ` via ${result.route.interface}` : "";
  const through = result.prefix ? `through ${result.prefix}${via}` : `on this computer${via}`;
  if (remoteConnect?.ok) {
    const prefix = result.prefix ?? remote?.route?.tunnelPrefix;
    const local = result.connect?.ok
      ? `; from this computer${via} it took ${result.connect.latencyMs} ms`
      : "";
    // Through the proxy entrance, only programs that use the proxy get there.
    const proxy =
      remote?.entrance === "proxy"
        ? " Programs on the remote reach it through the proxy: `source ~/.config/backhaul/proxy.env` first."
        : "";
    return {
      verdict: "reachable",
      summary: `The remote reaches ${name}:${input.port} through the tunnel${prefix ? ` (${prefix})` : ""} in ${remoteConnect.latencyMs} ms${local}.${proxy}`,
    };
  }
  const notAsked =
    input.connected && result.remoteError ? ` The remote's side was not checked: ${result.remoteError}` : "";
  return {
    verdict: "reachable",
    summary:
      `The remote ${input.connected ? "can" : "will, once connected,"} reach ${name}:${input.port} ` +
      `${through}; a connect from here took ${result.connect?.latencyMs ?? 0} ms.${notAsked}`,
  };
}

function unresolvable({ result }: VerdictInput): Verdict {
  const remoteDns = result.remote?.dns ?? null;
  const local = result.dns?.error ?? "no addresses";
  if (remoteDns === null)
    return {
      verdict: "unresolvable",
      summary: `${result.host} does not resolve on this computer (${local}): check the name, or connect the VPN whose DNS knows it.`,
    };
  return {
    verdict: "unresolvable",
    summary:
      `Neither the remote's resolver (${resolverName(remoteDns)}) nor this computer's knows ${result.host} ` +
      `(${local}): check the name, or connect the VPN whose DNS knows it.${ownResolverFailing(result)}`,
  };
}

/**
 * Split DNS sends the remote's other names to its own resolver. Its forwarder counts the queries
 * no server answered (the remote's own or, for split names, this computer's) since it started:
 * when there are some, the remote's resolver may be why a name outside the domains did not resolve.
 * (Its refused count is of clients' malformed queries, not the resolver's: not a hint here.)
 */
function ownResolverFailing(result: VerdictInput["result"]): string {
  const dns = result.remoteDns;
  if (result.remote?.dns?.viaStub !== false || dns?.mode !== "split") return "";
  const unanswered = dns.unanswered ?? 0;
  if (unanswered === 0) return "";
  return (
    ` The remote's split DNS forwarder has seen ${unanswered} lookup${unanswered === 1 ? "" : "s"} go unanswered ` +
    `since it started: check the servers the remote's resolv.conf named before Backhaul, or resolve every name here (--dns all).`
  );
}

/** This computer resolves the name and the remote does not: its question never comes here. */
function remoteDnsProblem({ result }: VerdictInput): Verdict | null {
  const remoteDns = result.remote?.dns ?? null;
  const localAddresses = result.dns?.addresses ?? [];
  if (remoteDns === null || remoteDns.addresses.length > 0 || localAddresses.length === 0) return null;
  const fix = remoteDns.viaStub
    ? "this computer's DNS engine did not answer it for the remote: reconnect, and check the DNS tab"
    : "the remote does not ask this computer for that name: add its domain (--dns-domain DOMAIN, or Settings → DNS), or resolve every name here (--dns all)";
  return {
    verdict: "remote-dns",
    summary:
      `The remote's resolver (${resolverName(remoteDns)}) does not know ${result.host} ` +
      `(${remoteDns.error ?? "no addresses"}), but this computer's does (${localAddresses[0]}): ${fix}.` +
      ownResolverFailing(result),
  };
}

function resolverName(dns: NonNullable<RemoteSide["dns"]>): string {
  if (dns.viaStub) return "through Backhaul's stub, this computer's";
  return dns.servers.length > 0 ? `its own, ${dns.servers.join(", ")}` : "its own";
}

function policyVerdict(input: VerdictInput, address: string): Verdict | null {
  const { refusal, result } = input;
  switch (refusal) {
    case null:
      return null;
    case "not-advertised": {
      const excluded = coveringPrefix(ipaddr.parse(address), input.excludes);
      if (excluded)
        return {
          verdict: "not-advertised",
          summary: `${address} is excluded by ${excluded}: remove it under Settings → Excluded prefixes.`,
        };
      const connect = result.connect;
      const reachable = connect?.ok
        ? ""
        : ` (this computer cannot reach it either: ${connect?.error ?? "no route"})`;
      return {
        verdict: "not-advertised",
        summary: `not advertised: add ${suggestedPrefix(address)} under Settings → Extra routes${reachable}.`,
      };
    }
    case "loopback":
    case "link-local":
    case "this-computer":
      return {
        verdict: "refused-by-policy",
        summary: `${address} is ${REASONS[refusal]}: turn on Settings → Allow access to this computer to let the remote reach it.`,
      };
    case "not-unicast":
      return {
        verdict: "refused-by-policy",
        summary: `${address} is not a unicast address: nothing reaches it through Backhaul.`,
      };
  }
}

/** Why the remote sends the address elsewhere than the tunnel, and what to do. */
export function remoteRouteSentence(address: string, route: NonNullable<RemoteSide["route"]>): string {
  const own = route.ownRoute;
  const skipped = route.skipped;
  const dev = own?.dev ?? route.dev;
  const via = dev ? `via its own ${dev}` : "outside the tunnel";
  if (own !== null && (own.kind === "connected" || own.kind === "address")) {
    const prefixNote =
      skipped?.reason === "inside-remote-network"
        ? `the prefix ${skipped.prefix} was skipped as an overlap`
        : route.tunnelPrefix
          ? `the tunnel's ${route.tunnelPrefix} leaves the remote's own ${own.prefix} alone`
          : "no prefix holding it is routed into the tunnel";
    return (
      `The remote routes ${address} ${via} because it is on ${own.prefix} itself — ${prefixNote}; ` +
      `the remote reaches its own network there, not the one behind this computer: give one of the two networks ` +
      `other addresses, or reach the host by an address outside ${own.prefix}.`
    );
  }
  if (skipped !== null && skipped.reason === "already-routed")
    return `The remote routes ${address} ${via}: ${skipped.message}; remove that route on the remote (ip route del ${skipped.prefix}) and reconnect.`;
  if (skipped !== null && skipped.reason === "contains-link-path")
    return `The remote routes ${address} ${via}: ${skipped.message}. Exclude a narrower prefix, or reach the host by another address.`;
  if (own !== null && route.tunnelPrefix !== null)
    return (
      `The remote routes ${address} ${via}: its own route ${own.description} is more specific than the tunnel's ` +
      `${route.tunnelPrefix}; remove it on the remote (ip route del ${own.prefix}) if the host is behind this computer.`
    );
  if (route.error !== null) return `The remote has no route to ${address} (${route.error}): reconnect.`;
  return (
    `The remote routes ${address} ${via}, not into the tunnel: no advertised prefix holding it is routed there ` +
    `${own ? `(its own route ${own.description} takes it)` : ""}; add one under Settings → Extra routes, or reconnect.`
  );
}

/** "ECONNREFUSED" out of "connect ECONNREFUSED 1.2.3.4:80" or "ECONNREFUSED: …", else null. */
function errnoOf(error: string | null): string | null {
  return error === null ? null : (/\b(E[A-Z]{3,})\b/.exec(error)?.[1] ?? null);
}

/** The longest of `prefixes` that covers the address, or null. */
export function coveringPrefix(
  address: ipaddr.IPv4 | ipaddr.IPv6,
  prefixes: readonly string[],
): string | null {
  let best: { prefix: string; bits: number } | null = null;
  for (const prefix of prefixes) {
    try {
      const [network, bits] = ipaddr.parseCIDR(prefix);
      if (network.kind() === address.kind() && address.match(network, bits) && (!best || bits > best.bits))
        best = { prefix, bits };
    } catch {
      // Settings are validated; a bad prefix here covers nothing.
    }
  }
  return best?.prefix ?? null;
}

/** A prefix to suggest for an address that is not advertised: its /24, or its /64. */
export function suggestedPrefix(address: string): string {
  const parsed = ipaddr.parse(address);
  const bits = parsed.kind() === "ipv4" ? 24 : 64;
  const network =
    parsed.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${bits}`);
  return `${network.toString()}/${bits}`;
}
