/**
 * Remote checks over the link (protocol version 1, capability `Diagnose`): "Can the remote reach
 * …?" asked of the agent, whose answer is the remote's side of the diagnosis.
 *
 * Frames (JSON text, UTF-8; the asking side chooses `id`, a u32, unique among its open requests)
 *
 *   DIAGNOSE         {id, host, port, address}     asker -> agent
 *                    host: a host name or an IP address; port: 1..65535; address: the address
 *                    this computer resolved the name to (or null), which the remote checks when
 *                    its own resolver has no answer
 *   DIAGNOSE_RESULT  a RemoteDiagnosis               agent -> asker, at most once per request
 *
 * The agent is the less trusted side: a DIAGNOSE_RESULT is data. It is size-capped
 * (MAX_DIAGNOSE_PAYLOAD), every field is checked and rebuilt afresh (unknown ones dropped), every
 * text is sanitised and cut short, addresses must be addresses, and a result whose id no request
 * holds is dropped. A DIAGNOSE is checked the same way by the agent, which runs commands with its
 * address (argv only, never a shell): a host that is neither a name nor an address is refused.
 * A payload that breaks these rules is counted and dropped like any malformed frame.
 *
 * This module runs in any process: it uses Buffer, no other Node API.
 */
import { formatAddress, parseAddress, parsePrefix } from "./ip-prefix.js";
import { LinkError } from "./link-protocol.js";
import { sanitiseRemoteText } from "./remote-text.js";

/** Frame types of the diagnose extension; link-protocol.ts holds 1..8, link-streams.ts 16..21. */
export const DiagnoseFrameType = { Request: 32, Result: 33 } as const;
export type DiagnoseFrameType = (typeof DiagnoseFrameType)[keyof typeof DiagnoseFrameType];

export function isDiagnoseFrameType(type: number): type is DiagnoseFrameType {
  return type === DiagnoseFrameType.Request || type === DiagnoseFrameType.Result;
}

/** Largest DIAGNOSE or DIAGNOSE_RESULT payload either side sends or accepts. */
export const MAX_DIAGNOSE_PAYLOAD = 16 * 1024;
/** Longest text field kept from the agent (code points). */
export const MAX_DIAGNOSE_TEXT = 300;
const MAX_ADDRESSES = 16;
const MAX_SERVERS = 8;
const MAX_LATENCY_MS = 3_600_000;

export interface RemoteDiagnoseRequest {
  id: number;
  host: string;
  port: number;
  address: string | null;
}

/** Why an advertised prefix is not routed on the remote (agent/routes.ts SkipReason). */
export type RemoteSkipReason = "invalid" | "inside-remote-network" | "contains-link-path" | "already-routed";
const SKIP_REASONS: readonly RemoteSkipReason[] = [
  "invalid",
  "inside-remote-network",
  "contains-link-path",
  "already-routed",
];

/** The remote's own route or network that holds the address, outside the tunnel. */
export interface RemoteOwnRoute {
  /** CIDR. */
  prefix: string;
  dev: string | null;
  /** "address" and "connected": the remote is on that network itself; "route": a route of its own. */
  kind: "address" | "connected" | "route";
  /** As `ip route` prints it, for the user. */
  description: string;
}
const OWN_ROUTE_KINDS: readonly RemoteOwnRoute["kind"][] = ["address", "connected", "route"];

export interface RemoteDiagnosis {
  id: number;
  /** How the remote's traffic enters the link: a TUN device, or a proxy on its loopback. */
  entrance: "tun" | "proxy";
  /** What the remote's resolver answered for a name; null for an address. */
  dns: {
    addresses: string[];
    error: string | null;
    latencyMs: number;
    /** The question went to the exit's stub (this computer), not to the remote's own resolver. */
    viaStub: boolean;
    /** The name servers the remote's resolver asks, as its configuration lists them. */
    servers: string[];
  } | null;
  /** The address the remote checked, or null when it had none. */
  address: string | null;
  /** `ip route get ADDRESS` on the remote, and why the route is what it is; null when not asked. */
  route: {
    /** The route leads into the tunnel's TUN device. */
    viaTunnel: boolean;
    dev: string | null;
    gateway: string | null;
    /** The advertised prefix the agent routed into the tunnel that holds the address. */
    tunnelPrefix: string | null;
    /** An advertised prefix holding the address that the agent did not route, and why. */
    skipped: { prefix: string; reason: RemoteSkipReason; message: string } | null;
    /** The most specific route of the remote's own that holds the address. */
    ownRoute: RemoteOwnRoute | null;
    /** Why the route could not be asked. */
    error: string | null;
  } | null;
  /** A real TCP connect from the remote (through the tunnel when it routes there). */
  connect: { ok: boolean; latencyMs: number; error: string | null; code: string | null } | null;
  /** Why the agent could not check at all, or null. */
  error: string | null;
}

function malformed(what: string, problem: string): LinkError {
  return new LinkError(
    "MALFORMED_PAYLOAD",
    `malformed ${what} from the peer: ${sanitiseRemoteText(problem, MAX_DIAGNOSE_TEXT)}`,
  );
}

type Bad = (problem: string) => LinkError;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(payload: Buffer, what: string): unknown {
  if (payload.length > MAX_DIAGNOSE_PAYLOAD)
    throw malformed(what, `${payload.length} bytes, over ${MAX_DIAGNOSE_PAYLOAD}`);
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch {
    throw malformed(what, "not JSON");
  }
}

function encodeJson(value: unknown, what: string): Buffer {
  const payload = Buffer.from(JSON.stringify(value), "utf8");
  if (payload.length > MAX_DIAGNOSE_PAYLOAD)
    throw new RangeError(`${what} of ${payload.length} bytes, over ${MAX_DIAGNOSE_PAYLOAD}`);
  return payload;
}

function id(value: unknown, bad: Bad): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw bad("id is not a u32");
  return value;
}

const DOMAIN_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** A DNS name as a user types it (LDH labels, underscores allowed, an optional final dot). */
export function isHostName(name: string): boolean {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  if (trimmed.length === 0 || trimmed.length > 253) return false;
  return trimmed.split(".").every((label) => DOMAIN_LABEL.test(label));
}

/** An address in canonical text (so it can never read as a command-line option), or null. */
export function canonicalAddress(text: string): string | null {
  const parsed = parseAddress(text);
  return parsed === null ? null : formatAddress(parsed.bytes);
}

function address(value: unknown, field: string, bad: Bad): string {
  const canonical = typeof value === "string" ? canonicalAddress(value) : null;
  if (canonical === null) throw bad(`${field} is not an IP address`);
  return canonical;
}

function nullableAddress(value: unknown, field: string, bad: Bad): string | null {
  return value === null ? null : address(value, field, bad);
}

function addressList(value: unknown, field: string, max: number, bad: Bad): string[] {
  if (!Array.isArray(value)) throw bad(`${field} is not a list`);
  if (value.length > max) throw bad(`${field} has ${value.length} entries, over ${max}`);
  return value.map((item, index) => address(item, `${field}[${index}]`, bad));
}

/** Peer text: sanitised and cut short; null stays null. */
function text(value: unknown, field: string, bad: Bad): string {
  if (typeof value !== "string") throw bad(`${field} is not text`);
  return sanitiseRemoteText(value, MAX_DIAGNOSE_TEXT);
}

function nullableText(value: unknown, field: string, bad: Bad): string | null {
  return value === null ? null : text(value, field, bad);
}

/** An interface name (Linux allows 15 bytes of nearly anything), sanitised; or null. */
function device(value: unknown, field: string, bad: Bad): string | null {
  if (value === null) return null;
  if (typeof value !== "string" || value.length === 0 || value.length > 15 || /\s/.test(value))
    throw bad(`${field} is not an interface name`);
  return sanitiseRemoteText(value, 15);
}

function prefix(value: unknown, field: string, bad: Bad): string {
  const parsed = typeof value === "string" ? parsePrefix(value) : null;
  if (parsed === null || !parsed.ok) throw bad(`${field} is not a prefix`);
  return value as string;
}

function latency(value: unknown, field: string, bad: Bad): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_LATENCY_MS)
    throw bad(`${field} is not a latency in ms`);
  return value;
}

function flag(value: unknown, field: string, bad: Bad): boolean {
  if (typeof value !== "boolean") throw bad(`${field} is not a boolean`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// DIAGNOSE

/** A request from untrusted JSON, built afresh; throws LinkError MALFORMED_PAYLOAD. */
export function parseDiagnoseRequest(value: unknown): RemoteDiagnoseRequest {
  const bad: Bad = (problem) => malformed("DIAGNOSE", problem);
  if (!isRecord(value)) throw bad("not a JSON object");
  const host = value.host;
  if (typeof host !== "string" || (canonicalAddress(host) === null && !isHostName(host)))
    throw bad("host is neither a host name nor an IP address");
  const port = value.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    throw bad("port is not 1..65535");
  return {
    id: id(value.id, bad),
    host: canonicalAddress(host) ?? host,
    port,
    address: nullableAddress(value.address ?? null, "address", bad),
  };
}

export function encodeDiagnoseRequest(request: RemoteDiagnoseRequest): Buffer {
  // Checked as the peer will check it: a request it would drop is our bug, said at once.
  return encodeJson(parseDiagnoseRequest(request), "DIAGNOSE");
}

export function decodeDiagnoseRequest(payload: Buffer): RemoteDiagnoseRequest {
  return parseDiagnoseRequest(parseJson(payload, "DIAGNOSE"));
}

// ---------------------------------------------------------------------------------------------
// DIAGNOSE_RESULT

/** A result from untrusted JSON, built afresh from the known fields; throws MALFORMED_PAYLOAD. */
export function parseRemoteDiagnosis(value: unknown): RemoteDiagnosis {
  const bad: Bad = (problem) => malformed("DIAGNOSE_RESULT", problem);
  if (!isRecord(value)) throw bad("not a JSON object");
  const entrance = value.entrance;
  if (entrance !== "tun" && entrance !== "proxy") throw bad('entrance is not "tun" or "proxy"');
  return {
    id: id(value.id, bad),
    entrance,
    dns: value.dns === null ? null : parseDns(value.dns, bad),
    address: nullableAddress(value.address, "address", bad),
    route: value.route === null ? null : parseRoute(value.route, bad),
    connect: value.connect === null ? null : parseConnect(value.connect, bad),
    error: nullableText(value.error, "error", bad),
  };
}

function parseDns(value: unknown, bad: Bad): NonNullable<RemoteDiagnosis["dns"]> {
  if (!isRecord(value)) throw bad("dns is not an object");
  return {
    addresses: addressList(value.addresses, "dns.addresses", MAX_ADDRESSES, bad),
    error: nullableText(value.error, "dns.error", bad),
    latencyMs: latency(value.latencyMs, "dns.latencyMs", bad),
    viaStub: flag(value.viaStub, "dns.viaStub", bad),
    servers: addressList(value.servers, "dns.servers", MAX_SERVERS, bad),
  };
}

function parseRoute(value: unknown, bad: Bad): NonNullable<RemoteDiagnosis["route"]> {
  if (!isRecord(value)) throw bad("route is not an object");
  let skipped: NonNullable<RemoteDiagnosis["route"]>["skipped"] = null;
  if (value.skipped !== null) {
    const s = value.skipped;
    if (!isRecord(s)) throw bad("route.skipped is not an object");
    const reason = s.reason;
    if (typeof reason !== "string" || !SKIP_REASONS.includes(reason as RemoteSkipReason))
      throw bad("route.skipped.reason is not a known reason");
    skipped = {
      prefix: prefix(s.prefix, "route.skipped.prefix", bad),
      reason: reason as RemoteSkipReason,
      message: text(s.message, "route.skipped.message", bad),
    };
  }
  let ownRoute: RemoteOwnRoute | null = null;
  if (value.ownRoute !== null) {
    const o = value.ownRoute;
    if (!isRecord(o)) throw bad("route.ownRoute is not an object");
    const kind = o.kind;
    if (typeof kind !== "string" || !OWN_ROUTE_KINDS.includes(kind as RemoteOwnRoute["kind"]))
      throw bad("route.ownRoute.kind is not a known kind");
    ownRoute = {
      prefix: prefix(o.prefix, "route.ownRoute.prefix", bad),
      dev: device(o.dev, "route.ownRoute.dev", bad),
      kind: kind as RemoteOwnRoute["kind"],
      description: text(o.description, "route.ownRoute.description", bad),
    };
  }
  return {
    viaTunnel: flag(value.viaTunnel, "route.viaTunnel", bad),
    dev: device(value.dev, "route.dev", bad),
    gateway: nullableAddress(value.gateway, "route.gateway", bad),
    tunnelPrefix: value.tunnelPrefix === null ? null : prefix(value.tunnelPrefix, "route.tunnelPrefix", bad),
    skipped,
    ownRoute,
    error: nullableText(value.error, "route.error", bad),
  };
}

function parseConnect(value: unknown, bad: Bad): NonNullable<RemoteDiagnosis["connect"]> {
  if (!isRecord(value)) throw bad("connect is not an object");
  const code = value.code;
  if (code !== null && (typeof code !== "string" || !/^[A-Z0-9_]{1,32}$/.test(code)))
    throw bad("connect.code is not an error code like ECONNREFUSED");
  return {
    ok: flag(value.ok, "connect.ok", bad),
    latencyMs: latency(value.latencyMs, "connect.latencyMs", bad),
    error: nullableText(value.error, "connect.error", bad),
    code,
  };
}

export function encodeRemoteDiagnosis(result: RemoteDiagnosis): Buffer {
  return encodeJson(parseRemoteDiagnosis(result), "DIAGNOSE_RESULT");
}

export function decodeRemoteDiagnosis(payload: Buffer): RemoteDiagnosis {
  return parseRemoteDiagnosis(parseJson(payload, "DIAGNOSE_RESULT"));
}
