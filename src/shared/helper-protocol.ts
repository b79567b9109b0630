/**
 * The main <-> local helper protocol, over the helper's owner-only Unix socket. Every connection
 * starts with one JSON line that carries the token (read from a 0600 file, never argv), so the
 * socket's file mode is not the only lock. Then:
 *
 *   link connection:    C: {"type":"link", token, options}      H: {"type":"accepted", linkId, dns}
 *                       then raw link frames both ways (the agent's stream, relayed by main).
 *   control connection: C: {"type":"control", token, linkId}    H: {"type":"attached", ...} then
 *                       H: progress / flows / dns / status / closed lines; C: routes / close lines.
 *                       The link is closed when its control connection goes away.
 *   capture connection: C: {"type":"capture", token, linkId, maxBytes, session}
 *                       H: {"type":"attached", linkId} then the link's packets as pcapng bytes,
 *                       until main hangs up or the helper ends it (size limit, link closed; the
 *                       reason goes out as a "capture" event on the control connection). The
 *                       helper never opens a user's file: it may run as root (DESIGN.md).
 *   shutdown:           C: {"type":"shutdown", token}            H: exits (an elevated helper
 *                       cannot be signalled by its unprivileged parent).
 *
 * A bad first line gets {"type":"refused", reason} and the connection is closed.
 */
import type { DnsRow } from "./dns-row.js";
import type { FlowRow, TableDelta } from "./flow-row.js";
import { canonicalAddress, isHostName, type RemoteDiagnosis } from "./diagnose-frames.js";
import { isDomainName, MAX_DNS_DOMAINS, type ReverseExitConfig } from "./link-protocol.js";
import { REMOTE_DNS_KEYS } from "./remote-dns-status.js";

export { AGENT_DNS_MODES } from "./remote-dns-status.js";

/** Exit-side settings a link runs with (the serialisable part of ExitSessionOptions). */
export interface HelperExitOptions {
  /** Link MTU: the TUN's MTU on the remote and the largest packet either side sends. */
  mtu: number;
  subnetV4: string;
  subnetV6: string | null;
  /** Advertised prefixes: routed by the remote, and the only destinations the NAT reaches. */
  routes: string[];
  allowLocal: boolean;
  /**
   * "all": the remote resolves every name through this computer; "split": only names under
   * `dnsDomains` and the reverse zones of `routes`; "off": DNS is left alone.
   */
  dns: "all" | "split" | "off";
  /** Split mode's domains (this computer's search and VPN domains, the user's own). */
  dnsDomains?: string[];
  keepaliveIntervalMs: number;
  pingTimeoutMs: number;
  /**
   * The reverse direction (this computer reaches the remote's networks): what the agent's exit
   * may reach, sent to it in CONFIG.reverse. Absent: the agent runs no exit.
   */
  reverse?: ReverseExitConfig;
  /**
   * `--socks [ADDR:]PORT`: the proxy entrance on this computer, whose streams open at the agent's
   * exit (needs `reverse`). Main picks the credentials and shows them to the user only.
   */
  socks?: { host?: string; port: number; username: string; password: string };
  /**
   * `--remote-route`: prefixes this computer routes into a TUN of its own, whose packets go to the
   * agent's exit (REVERSE_PACKETS). Absent or empty, with no remoteDnsDomains: no TUN here.
   */
  remoteRoutes?: string[];
  /** `--remote-dns-domain`: names under these resolve on this computer with the remote's resolver. */
  remoteDnsDomains?: string[];
}

export type HelperHello =
  | { type: "link"; token: string; options: HelperExitOptions }
  | { type: "control"; token: string; linkId: string }
  | { type: "capture"; token: string; linkId: string; maxBytes: number; session: string }
  | { type: "shutdown"; token: string };

export type HelperReply =
  | { type: "accepted"; linkId: string; dns: boolean }
  | { type: "attached"; linkId: string }
  | { type: "refused"; reason: string };

/** Helper -> main, on a control connection. */
export type HelperEvent =
  /** The link handshake with the agent completed. */
  | { type: "ready" }
  /** The agent's progress (AGENT_PROGRESS_KEYS of its STATS extras), merged over the link's life. */
  | { type: "progress"; extra: Record<string, number> }
  | { type: "flows"; delta: TableDelta<FlowRow> }
  | { type: "dns"; delta: TableDelta<DnsRow> }
  | { type: "status"; rttMs: number | null }
  /** The link's packet capture stopped by itself: the sentence to show (limit, link closed). */
  | { type: "capture"; stopped: string }
  /** The agent's answer to a "diagnose" command (checked by the helper's link), or why there is none. */
  | { type: "diagnosis"; id: number; result: RemoteDiagnosis | null; error: string | null }
  /** An "allowLocal" command applied: how many open flows to this computer it ended (switched off). */
  | { type: "allowLocal"; id: number; endedFlows: number }
  | { type: "closed"; reason: string };

/** Main -> helper, on a control connection. */
export type HelperCommand =
  | { type: "routes"; routes: string[] }
  /** Split DNS: this computer's domains changed (a VPN came up or went); the exit tells the agent. */
  | { type: "dnsDomains"; domains: string[] }
  /** The DNS mode changed while connected (Settings → DNS), with split's domains; the agent follows. */
  | { type: "dnsMode"; mode: HelperExitOptions["dns"]; domains: string[] }
  /**
   * "Allow access to this computer" changed while connected (Settings, `backhaul allow-local`):
   * new flows follow it, and switched off, the open flows to this computer end; answered by an
   * "allowLocal" event with the same id.
   */
  | { type: "allowLocal"; id: number; allow: boolean }
  | { type: "close"; reason: string }
  /** Ask the agent "Can the remote reach …?"; answered by a "diagnosis" event with the same id. */
  | { type: "diagnose"; id: number; host: string; port: number; address: string | null };

/** Longest line either side accepts: a table delta of many rows fits; a runaway peer does not. */
export const MAX_HELPER_LINE = 16 * 1024 * 1024;
/** The largest packet capture a link writes: 64 GiB. */
export const MAX_CAPTURE_BYTES = 64 * 1024 ** 3;
/** Longest first line or command: room for a link's options with thousands of routes. */
export const MAX_HELLO_LINE = 1024 * 1024;

export class HelperProtocolError extends Error {
  override readonly name = "HelperProtocolError";
}

export function parseHello(line: string): HelperHello {
  const value = parseObject(line);
  if (typeof value.token !== "string") throw new HelperProtocolError("the first message has no token");
  switch (value.type) {
    case "link":
      return { type: "link", token: value.token, options: parseExitOptions(value.options) };
    case "control":
      if (typeof value.linkId !== "string") throw new HelperProtocolError("control needs a linkId");
      return { type: "control", token: value.token, linkId: value.linkId };
    case "capture": {
      const { linkId, maxBytes, session } = value;
      if (typeof linkId !== "string") throw new HelperProtocolError("capture needs a linkId");
      if (
        typeof maxBytes !== "number" ||
        !Number.isInteger(maxBytes) ||
        maxBytes < 1024 ||
        maxBytes > MAX_CAPTURE_BYTES
      )
        throw new HelperProtocolError(
          `capture.maxBytes must be an integer from 1024 to ${MAX_CAPTURE_BYTES}`,
        );
      if (typeof session !== "string" || session.length > 200)
        throw new HelperProtocolError("capture.session must be a name of up to 200 characters");
      return { type: "capture", token: value.token, linkId, maxBytes, session };
    }
    case "shutdown":
      return { type: "shutdown", token: value.token };
    default:
      throw new HelperProtocolError(`unknown first message type ${JSON.stringify(value.type)}`);
  }
}

/** Split DNS's domains, as far as the agent will take them (link-protocol.ts checks them again). */
function isDomainList(value: unknown): value is string[] {
  return isStringList(value) && value.length <= MAX_DNS_DOMAINS && value.every(isDomainName);
}

function isDnsMode(value: unknown): value is HelperExitOptions["dns"] {
  return value === "all" || value === "split" || value === "off";
}

export function parseCommand(line: string): HelperCommand {
  const value = parseObject(line);
  if (value.type === "routes" && isStringList(value.routes)) return { type: "routes", routes: value.routes };
  if (value.type === "dnsDomains") {
    if (isDomainList(value.domains)) return { type: "dnsDomains", domains: value.domains };
    throw new HelperProtocolError("dnsDomains.domains must be a list of domain names");
  }
  if (value.type === "dnsMode") {
    if (!isDnsMode(value.mode)) throw new HelperProtocolError('dnsMode.mode must be "all", "split" or "off"');
    if (isDomainList(value.domains)) return { type: "dnsMode", mode: value.mode, domains: value.domains };
    throw new HelperProtocolError("dnsMode.domains must be a list of domain names");
  }
  if (value.type === "allowLocal") {
    if (!isCommandId(value.id)) throw new HelperProtocolError("allowLocal.id must be a non-negative integer");
    if (typeof value.allow === "boolean") return { type: "allowLocal", id: value.id, allow: value.allow };
    throw new HelperProtocolError("allowLocal.allow must be a boolean");
  }
  if (value.type === "close" && typeof value.reason === "string")
    return { type: "close", reason: value.reason };
  if (value.type === "diagnose") return parseDiagnoseCommand(value);
  throw new HelperProtocolError(`unknown command ${JSON.stringify(value.type)}`);
}

/** Replies and events come from our own helper; they are checked for shape, not field by field. */
export function parseReply(line: string): HelperReply {
  const value = parseObject(line);
  if (value.type === "accepted" || value.type === "attached" || value.type === "refused")
    return value as unknown as HelperReply;
  throw new HelperProtocolError(`unexpected reply ${JSON.stringify(value.type)}`);
}

export function parseEvent(line: string): HelperEvent {
  const value = parseObject(line);
  switch (value.type) {
    case "ready":
    case "progress":
    case "flows":
    case "dns":
    case "status":
    case "capture":
    case "diagnosis":
    case "allowLocal":
    case "closed":
      return value as unknown as HelperEvent;
    default:
      throw new HelperProtocolError(`unexpected event ${JSON.stringify(value.type)}`);
  }
}

export function encodeLine(message: HelperHello | HelperReply | HelperEvent | HelperCommand): string {
  return `${JSON.stringify(message)}\n`;
}

/** A command's id, which its answer carries back. */
function isCommandId(id: unknown): id is number {
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0;
}

function parseDiagnoseCommand(value: Record<string, unknown>): HelperCommand {
  const { id, host, port, address } = value;
  if (!isCommandId(id)) throw new HelperProtocolError("diagnose.id must be a non-negative integer");
  if (typeof host !== "string" || (canonicalAddress(host) === null && !isHostName(host)))
    throw new HelperProtocolError("diagnose.host must be a host name or an IP address");
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new HelperProtocolError("diagnose.port must be an integer from 1 to 65535");
  if (address !== null && (typeof address !== "string" || canonicalAddress(address) === null))
    throw new HelperProtocolError("diagnose.address must be an IP address or null");
  return { type: "diagnose", id, host, port, address };
}

function parseExitOptions(value: unknown): HelperExitOptions {
  if (typeof value !== "object" || value === null) throw new HelperProtocolError("link needs options");
  const o = value as Record<string, unknown>;
  const int = (key: string, min: number, max: number): number => {
    const n = o[key];
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max)
      throw new HelperProtocolError(`options.${key} must be an integer from ${min} to ${max}`);
    return n;
  };
  if (typeof o.subnetV4 !== "string") throw new HelperProtocolError("options.subnetV4 must be a string");
  if (o.subnetV6 !== null && typeof o.subnetV6 !== "string")
    throw new HelperProtocolError("options.subnetV6 must be a string or null");
  if (!isStringList(o.routes)) throw new HelperProtocolError("options.routes must be a list of prefixes");
  if (typeof o.allowLocal !== "boolean")
    throw new HelperProtocolError("options.allowLocal must be a boolean");
  if (!isDnsMode(o.dns)) throw new HelperProtocolError('options.dns must be "all", "split" or "off"');
  if (o.dnsDomains !== undefined && !isDomainList(o.dnsDomains))
    throw new HelperProtocolError("options.dnsDomains must be a list of domain names");
  const reverse = o.reverse === undefined ? undefined : parseReverse(o.reverse);
  const socks = o.socks === undefined ? undefined : parseSocks(o.socks);
  const optionalList = (key: "remoteRoutes" | "remoteDnsDomains"): { [key: string]: string[] } => {
    if (o[key] === undefined) return {};
    if (!isStringList(o[key])) throw new HelperProtocolError(`options.${key} must be a list of strings`);
    return { [key]: o[key] };
  };
  return {
    ...(reverse ? { reverse } : {}),
    ...(socks ? { socks } : {}),
    ...optionalList("remoteRoutes"),
    ...optionalList("remoteDnsDomains"),
    mtu: int("mtu", 1280, 65535),
    subnetV4: o.subnetV4,
    subnetV6: o.subnetV6,
    routes: o.routes,
    allowLocal: o.allowLocal,
    dns: o.dns,
    ...(o.dnsDomains === undefined ? {} : { dnsDomains: o.dnsDomains }),
    keepaliveIntervalMs: int("keepaliveIntervalMs", 0, 3_600_000),
    pingTimeoutMs: int("pingTimeoutMs", 100, 3_600_000),
  };
}

function parseReverse(value: unknown): ReverseExitConfig {
  if (typeof value !== "object" || value === null)
    throw new HelperProtocolError("options.reverse must be an object");
  const r = value as Record<string, unknown>;
  if (!isStringList(r.routes))
    throw new HelperProtocolError("options.reverse.routes must be a list of prefixes");
  if (typeof r.allowLocal !== "boolean" || typeof r.dns !== "boolean")
    throw new HelperProtocolError("options.reverse.allowLocal and .dns must be booleans");
  return { routes: r.routes, allowLocal: r.allowLocal, dns: r.dns };
}

function parseSocks(value: unknown): NonNullable<HelperExitOptions["socks"]> {
  if (typeof value !== "object" || value === null)
    throw new HelperProtocolError("options.socks must be an object");
  const { host, port, username, password } = value as Record<string, unknown>;
  if (host !== undefined && typeof host !== "string")
    throw new HelperProtocolError("options.socks.host must be text");
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new HelperProtocolError("options.socks.port must be a port number");
  if (typeof username !== "string" || typeof password !== "string")
    throw new HelperProtocolError("options.socks needs a username and password");
  return { ...(host === undefined ? {} : { host }), port, username, password };
}

function parseObject(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new HelperProtocolError("not a JSON line");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HelperProtocolError("not a JSON object");
  return value as Record<string, unknown>;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= 4096 && value.every((item) => typeof item === "string");
}

/**
 * The STATS extras main acts on (session.ts): the agent's routes are in place, then it is ready;
 * after each change of the remote's resolver, the DNS mode in force (AGENT_DNS_MODES) with a count
 * of the changes, so that `backhaul dns` can say when the remote has switched; and how that
 * resolver is set up, with split mode's forwarder's counts (remote-dns-status.ts). Only these are
 * kept and forwarded: the agent may send any names, and a map that took them all grew without
 * bound.
 */
export const AGENT_PROGRESS_KEYS: readonly string[] = [
  "agent.routes",
  "agent.ready",
  "agent.dnsMode",
  "agent.dnsChanges",
  ...REMOTE_DNS_KEYS,
];

/**
 * The agent's progress keys (AGENT_PROGRESS_KEYS) out of a STATS report's extras. The remote is
 * not trusted: every one of them is a count, a flag or an index, so a value that is not a
 * non-negative safe integer is dropped.
 */
export function agentProgress(extra: Readonly<Record<string, number>>): Record<string, number> {
  const progress: Record<string, number> = {};
  for (const key of AGENT_PROGRESS_KEYS) {
    const value = extra[key];
    if (value !== undefined && Number.isSafeInteger(value) && value >= 0) progress[key] = value;
  }
  return progress;
}
