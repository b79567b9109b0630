/**
 * The remote's side of "Can the remote reach …?" (DIAGNOSE, src/shared/diagnose-frames.ts): what
 * the remote's resolver answers for the name and whether it went to our stub, `ip route get` for
 * the address and why the route is not the tunnel's (a prefix the agent skipped, a more specific
 * route of the remote's own), and a real TCP connect from here with its latency.
 *
 * The agent may run as root and the request comes over the link: the host has been checked by the
 * frame's codec to be a host name or an address in canonical form, names go only to getaddrinfo,
 * and commands get the address as one argv element (never a shell). Every step has a timeout.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { readFile } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { performance } from "node:perf_hooks";
import {
  canonicalAddress,
  type RemoteDiagnoseRequest,
  type RemoteDiagnosis,
  type RemoteOwnRoute,
} from "../../shared/diagnose-frames.js";
import type { LinkDnsConfig } from "../../shared/link-protocol.js";
import { errorText, roundMs, timedConnect } from "../../shared/timed-connect.js";
import { StreamOpenError, StreamStatus, type StreamOpener } from "../../shared/link-streams.js";
import { containsAddress, parseAddress, parsePrefix, type Prefix } from "../engines/routes/cidr.js";
import type { Link } from "../engines/link/link.js";
import { execFileRunner, type CommandRunner } from "../system/command.js";
import { readRemoteRouting, type RemoteRouting, type RoutePlan } from "./routes.js";

export const REMOTE_STEP_TIMEOUT_MS = 5_000;
/** The address systemd-resolved's stub listens on (resolv.conf then names only it). */
const RESOLVED_STUB = "127.0.0.53";

export interface AgentCheckContext {
  entrance: "tun" | "proxy";
  /** The TUN device the advertised prefixes are routed into (null for the proxy entrance). */
  tunName: string | null;
  /** DNS as the exit's CONFIG set it up, or null before the CONFIG. */
  dns(): LinkDnsConfig | null;
  /** Where the agent's own split-DNS forwarder listens (the TUN's addresses), named in resolv.conf. */
  forwarders?(): string[];
  /** The agent's latest route plan: what it routed and what it skipped, and why. */
  routePlan(): RoutePlan | null;
}

export interface AgentProbes {
  /** getaddrinfo, as programs on the remote resolve. */
  lookup(name: string): Promise<string[]>;
  /** The text of /etc/resolv.conf. */
  resolvConf(): Promise<string>;
  /** `ip -j route get ADDRESS`'s output. */
  routeGet(address: string): Promise<string>;
  routing(): Promise<RemoteRouting>;
  /** Resolves once a TCP connect succeeds; rejects with the errno error. */
  connect(address: string, port: number, timeoutMs: number): Promise<void>;
  /**
   * The proxy entrance's way through the tunnel: a link stream the exit connects (rejects with an
   * error whose `code` is errno-like). Without it, the proxy entrance tries no connect.
   */
  connectThroughTunnel?(host: string, port: number): Promise<void>;
  now?(): number;
}

export function systemAgentProbes(ownDev: string | null, run: CommandRunner = execFileRunner): AgentProbes {
  return {
    lookup: async (name) =>
      (await withTimeout(dnsLookup(name, { all: true, verbatim: true }), "no answer")).map((e) => e.address),
    resolvConf: () => readFile("/etc/resolv.conf", "utf8"),
    routeGet: (address) => withTimeout(run("ip", ["-j", "route", "get", address]), "ip route get hung"),
    routing: () => withTimeout(readRemoteRouting({ ownDev: ownDev ?? "", run }), "ip route hung"),
    connect: (address, port, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const socket = tcpConnect({ host: address, port });
        socket.setTimeout(timeoutMs, () => {
          const error: NodeJS.ErrnoException = new Error(`no answer in ${timeoutMs / 1000} s`);
          error.code = "ETIMEDOUT";
          socket.destroy(error);
        });
        socket.once("connect", () => {
          socket.destroy();
          resolve();
        });
        socket.once("error", reject);
      }),
  };
}

/** Answers one DIAGNOSE. Never rejects: what failed is in the answer. */
export async function answerDiagnose(
  request: RemoteDiagnoseRequest,
  context: AgentCheckContext,
  probes: AgentProbes,
): Promise<RemoteDiagnosis> {
  const now = probes.now ?? (() => performance.now());
  if (context.entrance === "proxy") return answerThroughProxy(request, probes, now);
  const literal = canonicalAddress(request.host);
  let dns: RemoteDiagnosis["dns"] = null;
  let address = literal;
  if (literal === null) {
    dns = await resolveName(request.host, context, probes, now);
    // The address this computer checked, when the remote knows it too: both ends then speak of one.
    address =
      request.address !== null && dns.addresses.includes(request.address)
        ? request.address
        : (dns.addresses[0] ?? request.address);
  }
  const result: RemoteDiagnosis = {
    id: request.id,
    entrance: context.entrance,
    dns,
    address,
    route: null,
    connect: null,
    error: null,
  };
  if (address === null) return result;
  result.route = await routeOf(address, context, probes);
  result.connect = await timedConnect(
    () => probes.connect(address, request.port, REMOTE_STEP_TIMEOUT_MS),
    now,
  );
  return result;
}

/**
 * Through the proxy entrance, programs reach the tunnel only through the proxy, and hand it the
 * name (socks5h, HTTP): the exit resolves it, never the remote's resolver, and a plain connect from
 * here would test the remote's own network. So the check opens a link stream as the proxy does.
 */
async function answerThroughProxy(
  request: RemoteDiagnoseRequest,
  probes: AgentProbes,
  now: () => number,
): Promise<RemoteDiagnosis> {
  const through = probes.connectThroughTunnel;
  return {
    id: request.id,
    entrance: "proxy",
    dns: null,
    address: canonicalAddress(request.host) ?? request.address,
    route: null,
    connect:
      through === undefined ? null : await timedConnect(() => through(request.host, request.port), now),
    error: null,
  };
}

async function resolveName(
  name: string,
  context: AgentCheckContext,
  probes: AgentProbes,
  now: () => number,
): Promise<NonNullable<RemoteDiagnosis["dns"]>> {
  const servers = nameServers(await probes.resolvConf().catch(() => ""));
  const started = now();
  let addresses: string[] = [];
  let error: string | null = null;
  try {
    addresses = (await probes.lookup(name))
      .map((a) => canonicalAddress(a))
      .filter((a): a is string => a !== null)
      .slice(0, 16);
  } catch (caught) {
    error = errorText(caught);
  }
  return {
    addresses,
    error,
    latencyMs: roundMs(now() - started),
    viaStub: viaStub(name, servers, context.dns(), context.forwarders?.() ?? []),
    servers,
  };
}

/** The name servers resolv.conf lists, in order (glibc asks the first), at most 8. */
export function nameServers(resolvConf: string): string[] {
  const servers: string[] = [];
  for (const line of resolvConf.split("\n")) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    const address = match?.[1] === undefined ? null : canonicalAddress(match[1]);
    if (address !== null && servers.length < 8) servers.push(address);
  }
  return servers;
}

/**
 * Whether the remote sends this name to the exit's stub: resolv.conf names the stub first; or
 * systemd-resolved, or the agent's split forwarder, comes first and sends every name there (all)
 * or the names under our domains (split).
 */
export function viaStub(
  name: string,
  servers: readonly string[],
  dns: LinkDnsConfig | null,
  forwarders: readonly string[] = [],
): boolean {
  if (dns === null || dns.mode === "off") return false;
  const first = servers[0];
  if (first !== undefined && dns.servers.includes(first)) return true;
  if (first === undefined || (first !== RESOLVED_STUB && !forwarders.includes(first))) return false;
  if (dns.mode === "all") return true;
  const lower = name.toLowerCase().replace(/\.$/, "");
  return dns.domains.some((domain) => {
    const d = domain.toLowerCase().replace(/\.$/, "");
    return lower === d || lower.endsWith(`.${d}`);
  });
}

async function routeOf(
  address: string,
  context: AgentCheckContext,
  probes: AgentProbes,
): Promise<NonNullable<RemoteDiagnosis["route"]>> {
  const parsed = parseAddress(address);
  const plan = context.routePlan();
  const holds = (text: string): Prefix | null => {
    try {
      const prefix = parsePrefix(text);
      return parsed !== null && containsAddress(prefix, parsed.family, parsed.value) ? prefix : null;
    } catch {
      return null;
    }
  };
  const tunnel = longest((plan?.route ?? []).map((r) => ({ item: r.prefix, prefix: holds(r.prefix) })));
  const skipped = longest((plan?.skip ?? []).map((s) => ({ item: s, prefix: holds(s.prefix) })));
  const route: NonNullable<RemoteDiagnosis["route"]> = {
    viaTunnel: false,
    dev: null,
    gateway: null,
    tunnelPrefix: tunnel,
    skipped:
      skipped === null ? null : { prefix: skipped.prefix, reason: skipped.reason, message: skipped.message },
    ownRoute: null,
    error: null,
  };
  try {
    const [first] = JSON.parse(await probes.routeGet(address)) as unknown[];
    if (typeof first === "object" && first !== null) {
      const entry = first as Record<string, unknown>;
      route.dev = typeof entry.dev === "string" ? entry.dev : null;
      route.gateway = typeof entry.gateway === "string" ? canonicalAddress(entry.gateway) : null;
    }
  } catch (error) {
    route.error = `ip route get ${address}: ${errorText(error)}`;
  }
  route.viaTunnel = route.dev !== null && route.dev === context.tunName;
  if (!route.viaTunnel) {
    const routing = await probes.routing().catch(() => null);
    if (routing !== null) route.ownRoute = ownRouteFor(routing, holds);
  }
  return route;
}

const KIND_RANK: Record<RemoteOwnRoute["kind"], number> = { address: 0, connected: 1, route: 2 };

/** The most specific of the remote's own networks and main-table routes that holds the address. */
function ownRouteFor(routing: RemoteRouting, holds: (text: string) => Prefix | null): RemoteOwnRoute | null {
  const candidates: Array<{ route: RemoteOwnRoute; length: number }> = [];
  for (const network of routing.networks) {
    const prefix = holds(network.prefix);
    if (prefix === null) continue;
    const dev = network.dev === null ? "" : ` dev ${network.dev}`;
    candidates.push({
      route: {
        prefix: network.prefix,
        dev: network.dev,
        kind: network.kind,
        description: `${network.prefix}${dev}`,
      },
      length: prefix.length,
    });
  }
  for (const main of routing.mainRoutes) {
    const prefix = holds(main.prefix);
    if (prefix === null || prefix.length === 0) continue;
    const dev = / dev (\S+)/.exec(main.description)?.[1] ?? null;
    candidates.push({
      route: { prefix: main.prefix, dev, kind: "route", description: main.description },
      length: prefix.length,
    });
  }
  candidates.sort((a, b) => b.length - a.length || KIND_RANK[a.route.kind] - KIND_RANK[b.route.kind]);
  return candidates[0]?.route ?? null;
}

function longest<T>(entries: Array<{ item: T; prefix: Prefix | null }>): T | null {
  let best: { item: T; length: number } | null = null;
  for (const { item, prefix } of entries) {
    if (prefix !== null && (best === null || prefix.length > best.length))
      best = { item, length: prefix.length };
  }
  return best?.item ?? null;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} in ${REMOTE_STEP_TIMEOUT_MS / 1000} s`)),
      REMOTE_STEP_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** errno names for why the exit refused a link stream, as a socket would have said it. */
const STREAM_ERRNO: Partial<Record<StreamStatus, string>> = {
  [StreamStatus.Refused]: "ECONNREFUSED",
  [StreamStatus.TimedOut]: "ETIMEDOUT",
  [StreamStatus.HostUnreachable]: "EHOSTUNREACH",
  [StreamStatus.NetworkUnreachable]: "ENETUNREACH",
  [StreamStatus.NotAllowed]: "EACCES",
  [StreamStatus.NameNotFound]: "ENOTFOUND",
};

/** A connect through the proxy entrance's link streams: opened by the exit, then reset at once. */
export function streamConnect(opener: StreamOpener): NonNullable<AgentProbes["connectThroughTunnel"]> {
  return async (host, port) => {
    const address = canonicalAddress(host);
    try {
      const stream = await opener.open(
        address === null ? { kind: "name", name: host, port } : { kind: "address", address, port },
      );
      stream.reset();
    } catch (error) {
      if (error instanceof StreamOpenError) {
        const errno: NodeJS.ErrnoException = new Error(error.message);
        errno.code = STREAM_ERRNO[error.status];
        throw errno;
      }
      throw error;
    }
  };
}

/** Checks running at once; more are answered at once with "busy" rather than queued. */
const MAX_CHECKS_AT_ONCE = 2;

/** Answers the link's DIAGNOSE requests (the agent announces Capability.Diagnose). */
export function serveRemoteChecks(link: Link, context: AgentCheckContext, probes: AgentProbes): void {
  let running = 0;
  const send = (result: RemoteDiagnosis): void => {
    try {
      link.sendDiagnoseResult(result);
    } catch {
      // An answer that does not encode is dropped: the asker's timeout says so.
    }
  };
  link.on("diagnoseRequest", (request) => {
    if (running >= MAX_CHECKS_AT_ONCE) {
      send({
        ...emptyDiagnosis(request.id, context.entrance),
        error: "the remote is busy with other checks: try again",
      });
      return;
    }
    running++;
    void answerDiagnose(request, context, probes)
      .then(send, (error: unknown) =>
        send({ ...emptyDiagnosis(request.id, context.entrance), error: errorText(error) }),
      )
      .finally(() => running--);
  });
}

function emptyDiagnosis(id: number, entrance: RemoteDiagnosis["entrance"]): RemoteDiagnosis {
  return { id, entrance, dns: null, address: null, route: null, connect: null, error: null };
}
