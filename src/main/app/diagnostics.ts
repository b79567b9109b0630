/**
 * "Can the remote reach …?": the checks a user needs when the session is connected but nothing
 * works. Each answers one question on this computer — does the name resolve, is the address in
 * an advertised prefix, which interface would carry it, does the NAT's egress policy allow it,
 * does a real connect succeed — and the summary says what to change.
 */
import { lookup } from "node:dns/promises";
import { connect as tcpConnect } from "node:net";
import ipaddr from "ipaddr.js";
import type { DiagnoseRequest, DiagnoseResult } from "../../shared/api.js";
import { EgressPolicy, type RefusalReason } from "../../helper/engines/nat/egress-policy.js";
import { runCommand } from "../../helper/engines/run-command.js";

export const CONNECT_TIMEOUT_MS = 5_000;
const LOOKUP_TIMEOUT_MS = 5_000;

export interface DiagnoseContext {
  /** The session's advertised prefixes, or what a connect would advertise now. */
  advertised: readonly string[];
  /** Settings → Excluded prefixes, to say why an address is not advertised. */
  excludes: readonly string[];
  allowLocal: boolean;
  /** Whether a session is connected: the summary then speaks of now, not "once connected". */
  connected: boolean;
}

export interface DiagnoseProbes {
  /** Addresses for a name, through this computer's resolver. */
  lookup(name: string): Promise<string[]>;
  /** The interface and gateway this computer would use, or null where that cannot be asked. */
  route(address: string): Promise<{ interface: string | null; gateway: string | null } | null>;
  /** Resolves when a TCP connect succeeds; rejects with why not. */
  connect(address: string, port: number, timeoutMs: number): Promise<void>;
  /** This computer's own addresses, for the egress policy (default: the OS's). */
  localAddresses?: () => readonly string[];
  now?: () => number;
}

export async function diagnose(
  request: DiagnoseRequest,
  context: DiagnoseContext,
  probes: DiagnoseProbes = systemProbes,
): Promise<DiagnoseResult> {
  const now = probes.now ?? (() => performance.now());
  const host = request.host.trim();
  let dns: DiagnoseResult["dns"] = null;
  let address: string | null = ipaddr.isValid(host) ? ipaddr.process(host).toString() : null;
  if (address === null) {
    const started = now();
    try {
      const addresses = await probes.lookup(host);
      dns = { addresses, error: null, latencyMs: round(now() - started) };
      address = addresses[0] ?? null;
    } catch (error) {
      dns = { addresses: [], error: errorText(error), latencyMs: round(now() - started) };
    }
  }
  if (address === null) {
    return {
      host,
      dns,
      address: null,
      prefix: null,
      route: null,
      policy: { allowed: false, reason: "the name does not resolve" },
      connect: null,
      summary: `${host} does not resolve on this computer (${dns?.error ?? "no addresses"}): check the name, or connect the VPN whose DNS knows it.`,
    };
  }

  const parsed = ipaddr.parse(address);
  const prefix = coveringPrefix(parsed, context.advertised);
  const policy = new EgressPolicy({
    prefixes: context.advertised,
    allowLocal: context.allowLocal,
    localAddresses: probes.localAddresses,
  });
  const decision = policy.check(Uint8Array.from(parsed.toByteArray()));
  const [route, connect] = await Promise.all([
    probes.route(address).catch(() => null),
    tryConnect(probes, address, request.port, now),
  ]);
  const result: Omit<DiagnoseResult, "summary"> = {
    host,
    dns,
    address,
    prefix,
    route,
    policy: decision.allowed
      ? { allowed: true, reason: null }
      : { allowed: false, reason: REASONS[decision.reason] },
    connect,
  };
  const refusal = decision.allowed ? null : decision.reason;
  return { ...result, summary: summarize(result, refusal, request.port, context) };
}

const REASONS: Record<RefusalReason, string> = {
  "not-advertised": "not in the advertised prefixes",
  "not-unicast": "not a unicast address",
  loopback: "a loopback address of this computer",
  "link-local": "a link-local address",
  "this-computer": "one of this computer's own addresses",
};

function summarize(
  result: Omit<DiagnoseResult, "summary">,
  refusal: RefusalReason | null,
  port: number,
  context: DiagnoseContext,
): string {
  const address = result.address ?? result.host;
  const connect = result.connect;
  switch (refusal) {
    case "not-advertised": {
      const excluded = coveringPrefix(ipaddr.parse(address), context.excludes);
      if (excluded)
        return `${address} is excluded by ${excluded}: remove it under Settings → Excluded prefixes.`;
      const reachable = connect?.ok
        ? ""
        : ` (this computer cannot reach it either: ${connect?.error ?? "no route"})`;
      return `not advertised: add ${suggestedPrefix(address)} under Settings → Extra routes${reachable}.`;
    }
    case "loopback":
    case "link-local":
    case "this-computer":
      return `${address} is ${REASONS[refusal]}: turn on Settings → Allow access to this computer to let the remote reach it.`;
    case "not-unicast":
      return `${address} is not a unicast address: nothing reaches it through Backhaul.`;
    case null:
      break;
  }
  if (!connect?.ok) {
    return (
      `${address} is advertised${result.prefix ? ` (${result.prefix})` : ""}, but this computer cannot connect to ` +
      `port ${port} (${connect?.error ?? "unknown error"}): check that the service runs and that no firewall blocks it.`
    );
  }
  const via = result.route?.interface ? ` via ${result.route.interface}` : "";
  const through = result.prefix ? `through ${result.prefix}${via}` : `on this computer${via}`;
  return (
    `The remote ${context.connected ? "can" : "will, once connected,"} reach ${result.host}:${port} ` +
    `${through}; a connect from here took ${connect.latencyMs} ms.`
  );
}

async function tryConnect(
  probes: DiagnoseProbes,
  address: string,
  port: number,
  now: () => number,
): Promise<NonNullable<DiagnoseResult["connect"]>> {
  const started = now();
  try {
    await probes.connect(address, port, CONNECT_TIMEOUT_MS);
    return { ok: true, latencyMs: round(now() - started), error: null };
  } catch (error) {
    return { ok: false, latencyMs: round(now() - started), error: errorText(error) };
  }
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

/** `ip -j route get` output → interface and gateway. */
export function parseIpRouteGet(json: string): { interface: string | null; gateway: string | null } | null {
  const parsed = JSON.parse(json) as unknown;
  const first = Array.isArray(parsed) ? (parsed[0] as Record<string, unknown> | undefined) : undefined;
  if (!first) return null;
  return {
    interface: typeof first.dev === "string" ? first.dev : null,
    gateway: typeof first.gateway === "string" ? first.gateway : null,
  };
}

export const systemProbes: DiagnoseProbes = {
  async lookup(name) {
    const answer = lookup(name, { all: true, verbatim: true });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no answer in ${LOOKUP_TIMEOUT_MS / 1000} s`)),
        LOOKUP_TIMEOUT_MS,
      ).unref(),
    );
    return (await Promise.race([answer, timeout])).map((entry) => entry.address);
  },
  async route(address) {
    if (process.platform !== "linux") return null;
    try {
      return parseIpRouteGet(
        (await runCommand("ip", ["-j", "route", "get", address], { timeoutMs: 5_000 })).stdout,
      );
    } catch {
      return null; // no `ip`, or an answer it could not give: the check says "unknown"
    }
  },
  connect(address, port, timeoutMs) {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: address, port });
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", reject);
    });
  },
};

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
