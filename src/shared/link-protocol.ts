/**
 * Backhaul link protocol, version 1 (revision 2: the reverse direction): the frames the two ends of a link exchange over one reliable
 * byte stream (an SSH exec channel's stdin/stdout, a Unix socket, an in-memory pair in tests).
 *
 * Framing
 *
 *   frame = length:u32 type:u8 payload
 *
 *   All integers are big endian. `length` counts the bytes AFTER the length field, i.e. the type
 *   byte plus the payload, so `length >= 1` and a frame takes `4 + length` bytes on the stream.
 *   A receiver closes the link on a length of 0, a length over its limit (MAX_FRAME_LENGTH unless
 *   both sides are configured lower), or a stream that ends inside a frame. A frame whose type it
 *   does not know is skipped by its length, so later versions can add frame types.
 *
 * Payloads ("text" is UTF-8 running to the end of the payload)
 *
 *   HELLO    version:u16 role:u8 capabilities:u32 softwareVersion:text
 *   CONFIG   JSON text of a LinkConfig
 *   PACKETS  (length:u16 packet)+    one or more IP packets of 1..65535 bytes each
 *   PING     nonce:u64
 *   PONG     nonce:u64               the nonce of the PING it answers
 *   STATS    JSON text of a StatsReport
 *   ERROR    code:u16 message:text   code is an ErrorCode; unknown codes are kept as numbers
 *   BYE      reason:text             may be empty
 *   REVERSE_PACKETS  as PACKETS      revision 2, capability Reverse (below)
 *   FLOWS    JSON text of a TableDelta<FlowRow>   revision 2, capability Reverse (below)
 *
 * The reverse direction (revision 2, capability Reverse; both HELLOs must carry it)
 *
 *   Roles name the forward direction: the entrance (the agent's TUN or proxy) sends traffic to the
 *   exit (this computer's NAT and DNS engines). With Reverse, each side also plays the other role
 *   on the same link: this computer has an entrance too (`--socks`, a TUN for `--remote-route`)
 *   and the agent runs an exit whose flows leave from the remote's own sockets.
 *
 *   - PACKETS keep their meaning: between the entrance-role side's TUN and the exit-role side's
 *     NAT. REVERSE_PACKETS carry the other pair: the exit-role side's TUN (this computer's) and the
 *     entrance-role side's exit (the agent's NAT). A separate frame type, not an address rule: the
 *     two directions may use the same link subnet, and a packet must never be able to choose the
 *     engine it reaches by its addresses.
 *   - Streams (link-streams.ts) may be opened by either side; the top bit of the id says which.
 *   - CONFIG's optional `reverse` field (sent by the exit-role side) tells the agent's exit what it
 *     may reach: `routes` (the prefixes the user chose; an empty list means every destination the
 *     remote reaches), `allowLocal` (the remote's own loopback and addresses), `dns` (whether its
 *     DNS stub answers). Its stub and this computer's TUN address are the link subnet's (as
 *     link-addresses.ts): the same numbers on both machines, one in each direction.
 *   - FLOWS: the agent's exit publishes its NAT table to this computer (at most one frame a
 *     second, like STATS), as the deltas a FlowTable publishes; rows are the agent's to number.
 *
 *   A side without Reverse skips REVERSE_PACKETS and FLOWS as unknown types and never sees an id
 *   with the top bit set; the exit-role side asks nothing reverse of an agent whose HELLO lacks
 *   the capability, and tells the user the agent is too old (a clear refusal, not a silent loss).
 *
 *   Extensions, each used only when both HELLOs announce its capability: STREAM_* (16..21,
 *   link-streams.ts) and DIAGNOSE / DIAGNOSE_RESULT (32, 33, diagnose-frames.ts).
 *
 * Conversation
 *
 *   Each side sends HELLO as its first frame. Before the peer's HELLO only ERROR and BYE may arrive
 *   besides it; anything else is a protocol violation. `version` is the first field of HELLO in
 *   every version of this protocol, so a mismatch is always detected: the side that sees one sends
 *   ERROR (VersionMismatch) and ends the stream. An entrance talks to an exit, never to its own role.
 *   ERROR reports a problem; the sender ends the stream afterwards if the problem is fatal.
 *   BYE is the last frame of a clean shutdown; the side that sent it then ends its stream.
 *
 * A payload that does not decode (a PACKETS frame whose inner lengths overrun, CONFIG that is not
 * valid JSON of the right shape, ...) is dropped and counted by the receiver, never trusted.
 *
 * This module runs in any process: it uses Buffer but no other Node API.
 */

import { CodedError } from "./coded-error.js";
import { parseAddress, parsePrefix, type ParsedPrefix } from "./ip-prefix.js";
import { sanitiseRemoteText } from "./remote-text.js";

export const PROTOCOL_VERSION = 1;

/** Bytes before the type byte: the u32 length. */
export const FRAME_LENGTH_BYTES = 4;
/** Bytes before the payload: the u32 length and the u8 type. */
export const FRAME_HEADER_BYTES = 5;
/**
 * Largest `length` (type byte + payload) a v1 peer accepts by default. PACKETS frames are cut to
 * stay under it, so one frame holds about 16 packets of 64 KiB or 700 of 1,500 bytes.
 */
export const MAX_FRAME_LENGTH = 1024 * 1024;
/** Largest IP packet a PACKETS frame can carry (its inner length is a u16). */
export const MAX_PACKET_LENGTH = 0xffff;
/** Smallest usable frame limit: one PACKETS frame must hold one packet of MAX_PACKET_LENGTH. */
export const MIN_FRAME_LIMIT = 1 + 2 + MAX_PACKET_LENGTH;

export const FrameType = {
  Hello: 1,
  Config: 2,
  Packets: 3,
  Ping: 4,
  Pong: 5,
  Stats: 6,
  Error: 7,
  Bye: 8,
  /** Revision 2: packets between the exit-role side's TUN and the entrance-role side's exit. */
  ReversePackets: 9,
  /** Revision 2: the agent's exit's NAT table, as deltas. */
  Flows: 10,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const frameTypeNames = new Map<number, string>(
  Object.entries(FrameType).map(([name, value]) => [value, name.toUpperCase()]),
);

/** "PACKETS" for a known type, "type 200" for an unknown one: for error messages and logs. */
export function frameTypeName(type: number): string {
  return frameTypeNames.get(type) ?? `type ${type}`;
}

export function isKnownFrameType(type: number): type is FrameType {
  return frameTypeNames.has(type);
}

/** Entrance captures packets (TUN, SOCKS); exit terminates them (NAT, DNS). */
export type LinkRole = "entrance" | "exit";

const roleCodes: Record<LinkRole, number> = { entrance: 1, exit: 2 };

/**
 * Capability bits a side announces in HELLO. Bits a side does not know are ignored, so adding one
 * needs no version bump; what both sides can use is the AND of the two masks.
 */
export const Capability = {
  /** Carries IPv6 packets (otherwise the peer sends only IPv4). */
  Ipv6: 1 << 0,
  /** The exit answers DNS queries sent to the stub addresses in CONFIG. */
  DnsStub: 1 << 1,
  /** The exit forwards ICMP echo (ping) to real destinations. */
  IcmpEcho: 1 << 2,
  /** Sends STATS frames periodically. */
  Stats: 1 << 3,
  /** The exit opens TCP streams carried as STREAM_* frames (link-streams.ts). */
  Streams: 1 << 4,
  /** Answers (agent) or asks (exit) remote checks as DIAGNOSE frames (diagnose-frames.ts). */
  Diagnose: 1 << 5,
  /**
   * Revision 2: the reverse direction on the same link (REVERSE_PACKETS, streams opened by either
   * side, CONFIG.reverse, FLOWS). An agent that announces it runs an exit.
   */
  Reverse: 1 << 6,
} as const;

/** Codes carried by ERROR frames. A receiver keeps codes it does not know as plain numbers. */
export const ErrorCode = {
  ProtocolViolation: 1,
  VersionMismatch: 2,
  RoleConflict: 3,
  FrameTooLarge: 4,
  MalformedFrame: 5,
  HandshakeTimeout: 6,
  Internal: 7,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Why a link failed or a payload was refused; `code` is for programs, `message` for people. */
export type LinkErrorCode =
  /** A frame length over the receiver's limit: garbage on the stream, or mismatched limits. */
  | "FRAME_TOO_LARGE"
  /** A frame length of 0: there must be at least a type byte. */
  | "EMPTY_FRAME"
  /** The stream ended inside a frame. */
  | "TRUNCATED_FRAME"
  /** A payload that does not decode; the frame is dropped, the link stays up. */
  | "MALFORMED_PAYLOAD"
  | "VERSION_MISMATCH"
  /** Both sides claim the same role. */
  | "ROLE_CONFLICT"
  /** A frame that is not allowed at this point (before HELLO, or a second HELLO). */
  | "UNEXPECTED_FRAME"
  | "HANDSHAKE_TIMEOUT"
  /** The peer reported an ERROR and then ended the link. */
  | "PEER_ERROR"
  /** The stream ended without a BYE. */
  | "STREAM_ENDED"
  /** The stream itself failed (connection reset, broken pipe). */
  | "STREAM_ERROR"
  | "PING_TIMEOUT"
  /** An operation on a link that is already closed. */
  | "LINK_CLOSED";

export class LinkError extends CodedError<LinkErrorCode> {
  override readonly name = "LinkError";
}

/** The ERROR codes that tell the peer about a local failure; any other failure is Internal. */
const WIRE_ERROR_CODES: Partial<Record<LinkErrorCode, ErrorCode>> = {
  VERSION_MISMATCH: ErrorCode.VersionMismatch,
  ROLE_CONFLICT: ErrorCode.RoleConflict,
  FRAME_TOO_LARGE: ErrorCode.FrameTooLarge,
  EMPTY_FRAME: ErrorCode.MalformedFrame,
  TRUNCATED_FRAME: ErrorCode.MalformedFrame,
  MALFORMED_PAYLOAD: ErrorCode.MalformedFrame,
  UNEXPECTED_FRAME: ErrorCode.ProtocolViolation,
  HANDSHAKE_TIMEOUT: ErrorCode.HandshakeTimeout,
};

/** The ERROR code that tells the peer about a local failure. */
export function errorCodeFor(code: LinkErrorCode): ErrorCode {
  return WIRE_ERROR_CODES[code] ?? ErrorCode.Internal;
}

/** `problem` may quote the peer's bytes (JSON.parse's message does): sanitised like its text. */
function malformed(what: string, problem: string): LinkError {
  return new LinkError(
    "MALFORMED_PAYLOAD",
    `malformed ${what} from the peer: ${sanitiseRemoteText(problem)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Frames

/**
 * A whole frame (header + payload) in a new Buffer. For control frames; the hot path builds
 * PACKETS frames in place (src/helper/engines/link/packet-batcher.ts).
 */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(frame, 0, type, payload.length);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** Writes the 5-byte header of a frame with `payloadLength` payload bytes at `offset`. */
export function writeFrameHeader(target: Buffer, offset: number, type: number, payloadLength: number): void {
  target.writeUInt32BE(payloadLength + 1, offset);
  target[offset + 4] = type;
}

// ---------------------------------------------------------------------------------------------
// Text

/** Peer text made safe to print (see remote-text.ts): it ends up in terminals and the UI. */
function decodeText(payload: Buffer, start: number): string {
  return sanitiseRemoteText(payload.toString("utf8", start));
}

// ---------------------------------------------------------------------------------------------
// HELLO

export interface Hello {
  version: number;
  role: LinkRole;
  /** Capability bits, an unsigned 32-bit integer. */
  capabilities: number;
  /** The sender's Backhaul release, for messages like "update the remote agent". */
  softwareVersion: string;
}

const HELLO_FIXED_BYTES = 7;

export function encodeHello(hello: Hello): Buffer {
  if (!Number.isInteger(hello.version) || hello.version < 0 || hello.version > 0xffff) {
    throw new RangeError(`HELLO version ${hello.version} is not a u16`);
  }
  if (!Number.isInteger(hello.capabilities) || hello.capabilities < 0 || hello.capabilities > 0xffffffff) {
    throw new RangeError(`HELLO capabilities ${hello.capabilities} is not a u32`);
  }
  const text = Buffer.from(hello.softwareVersion, "utf8");
  const payload = Buffer.allocUnsafe(HELLO_FIXED_BYTES + text.length);
  payload.writeUInt16BE(hello.version, 0);
  payload[2] = roleCodes[hello.role];
  payload.writeUInt32BE(hello.capabilities, 3);
  payload.set(text, HELLO_FIXED_BYTES);
  return payload;
}

/**
 * The protocol version of a HELLO payload. Read on its own, before decodeHello, because a HELLO of
 * another version may lay out the rest differently: a mismatch must be reported as one.
 */
export function readHelloVersion(payload: Buffer): number {
  if (payload.length < 2) throw malformed("HELLO", `${payload.length} bytes, too short for a version`);
  return payload.readUInt16BE(0);
}

/** Decodes a HELLO of this protocol version (check readHelloVersion first). */
export function decodeHello(payload: Buffer): Hello {
  if (payload.length < HELLO_FIXED_BYTES) {
    throw malformed("HELLO", `${payload.length} bytes, need at least ${HELLO_FIXED_BYTES}`);
  }
  const roleCode = payload[2];
  const role: LinkRole | null = roleCode === 1 ? "entrance" : roleCode === 2 ? "exit" : null;
  if (role === null) throw malformed("HELLO", `unknown role ${roleCode}`);
  return {
    version: payload.readUInt16BE(0),
    role,
    capabilities: payload.readUInt32BE(3),
    softwareVersion: decodeText(payload, HELLO_FIXED_BYTES),
  };
}

// ---------------------------------------------------------------------------------------------
// PACKETS

/**
 * A PACKETS payload in a new Buffer, copying the packets. For tests and cold paths: the link
 * batches packets straight into its output buffer instead.
 */
export function encodePackets(packets: readonly Uint8Array[]): Buffer {
  if (packets.length === 0) throw new RangeError("a PACKETS frame carries at least one packet");
  let size = 0;
  for (const packet of packets) {
    if (packet.length === 0 || packet.length > MAX_PACKET_LENGTH) {
      throw new RangeError(`a packet of ${packet.length} bytes cannot be framed (1..${MAX_PACKET_LENGTH})`);
    }
    size += 2 + packet.length;
  }
  const payload = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const packet of packets) {
    payload.writeUInt16BE(packet.length, offset);
    payload.set(packet, offset + 2);
    offset += 2 + packet.length;
  }
  return payload;
}

/**
 * The packets of a PACKETS payload as views into `payload` (no copies): they share its memory,
 * so a caller that keeps one past its use of the frame should copy it rather than pin the frame.
 * The whole payload is checked before anything is returned, so a frame whose inner lengths
 * overrun yields no packets at all.
 */
export function decodePackets(payload: Buffer): Buffer[] {
  if (payload.length === 0) throw malformed("PACKETS", "no packets");
  let count = 0;
  let offset = 0;
  while (offset < payload.length) {
    if (payload.length - offset < 2) throw malformed("PACKETS", `stray byte at offset ${offset}`);
    const length = payload.readUInt16BE(offset);
    if (length === 0) throw malformed("PACKETS", `empty packet at offset ${offset}`);
    if (offset + 2 + length > payload.length) {
      throw malformed("PACKETS", `packet of ${length} bytes at offset ${offset} overruns the frame`);
    }
    offset += 2 + length;
    count++;
  }
  const packets = new Array<Buffer>(count);
  offset = 0;
  for (let i = 0; i < count; i++) {
    const length = payload.readUInt16BE(offset);
    packets[i] = payload.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
  }
  return packets;
}

// ---------------------------------------------------------------------------------------------
// PING / PONG

/** PING and PONG share one payload: an opaque u64 the PONG echoes. */
export function encodeNonce(nonce: bigint): Buffer {
  if (nonce < 0n || nonce > 0xffffffffffffffffn) throw new RangeError(`nonce ${nonce} is not a u64`);
  const payload = Buffer.allocUnsafe(8);
  payload.writeBigUInt64BE(nonce, 0);
  return payload;
}

export function decodeNonce(payload: Buffer, what: "PING" | "PONG"): bigint {
  if (payload.length !== 8) throw malformed(what, `${payload.length} bytes, expected 8`);
  return payload.readBigUInt64BE(0);
}

// ---------------------------------------------------------------------------------------------
// ERROR / BYE

export interface PeerErrorReport {
  /** An ErrorCode, or a number this version does not know. */
  code: number;
  message: string;
}

export function encodeErrorPayload(report: PeerErrorReport): Buffer {
  if (!Number.isInteger(report.code) || report.code < 0 || report.code > 0xffff) {
    throw new RangeError(`ERROR code ${report.code} is not a u16`);
  }
  const text = Buffer.from(report.message, "utf8");
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(report.code, 0);
  payload.set(text, 2);
  return payload;
}

export function decodeErrorPayload(payload: Buffer): PeerErrorReport {
  if (payload.length < 2) throw malformed("ERROR", `${payload.length} bytes, need at least 2`);
  return { code: payload.readUInt16BE(0), message: decodeText(payload, 2) };
}

export function encodeBye(reason: string): Buffer {
  return Buffer.from(reason, "utf8");
}

/** Any byte sequence is a BYE reason; controls are replaced so it prints safely. */
export function decodeBye(payload: Buffer): string {
  return decodeText(payload, 0);
}

// ---------------------------------------------------------------------------------------------
// CONFIG

/** How the entrance sends DNS to the exit's stub addresses. */
export type LinkDnsConfig =
  /** Leave the entrance's resolver alone. */
  | { mode: "off" }
  /** Every name is resolved through the stub `servers`. */
  | { mode: "all"; servers: string[] }
  /** Only names under `domains` (e.g. "corp.example") go to the stub `servers`. */
  | { mode: "split"; servers: string[]; domains: string[] };

/** What the exit tells the entrance to set up: sent as CONFIG after the handshake. */
export interface LinkConfig {
  /** IPv4 link subnet for the entrance's TUN device, CIDR with host bits clear, /0../30; or null. */
  subnetV4: string | null;
  /** IPv6 link subnet, CIDR with host bits clear, /0../126; or null when IPv6 is not carried. */
  subnetV6: string | null;
  /** Link MTU: the TUN device's MTU and the largest packet either side sends. */
  mtu: number;
  /** Prefixes (CIDR, host bits clear) the entrance routes into the link. */
  routes: string[];
  dns: LinkDnsConfig;
  /** Revision 2, sent only to a peer with Capability.Reverse: what the agent's exit may reach. */
  reverse?: ReverseExitConfig;
}

/** The agent's exit (revision 2): see "The reverse direction" above. */
export interface ReverseExitConfig {
  /** Prefixes (CIDR, host bits clear) it may reach; empty: every destination the remote reaches. */
  routes: string[];
  /** The remote's own loopback and addresses too. */
  allowLocal: boolean;
  /** Its DNS stub answers with the remote's resolver. */
  dns: boolean;
}

export const MIN_LINK_MTU = 576;
/** IPv6 requires every link to carry 1,280-byte packets. */
export const MIN_LINK_MTU_V6 = 1280;
const MAX_ROUTES = 10_000;
const MAX_DNS_SERVERS = 16;
/** Split DNS's domains in one CONFIG: room for a user's own and many prefixes' reverse zones. */
export const MAX_DNS_DOMAINS = 1_000;

/**
 * A LinkConfig from untrusted JSON. Checks every field and builds a fresh object holding only the
 * known fields (unknown ones are ignored, for later versions). Throws LinkError MALFORMED_PAYLOAD
 * naming the first bad field.
 */
export function parseLinkConfig(value: unknown): LinkConfig {
  const bad = (problem: string): LinkError => malformed("CONFIG", problem);
  if (!isRecord(value)) throw bad("not a JSON object");

  const subnetV4 = optionalSubnet(value.subnetV4, 4, "subnetV4", bad);
  const subnetV6 = optionalSubnet(value.subnetV6, 6, "subnetV6", bad);
  if (subnetV4 === null && subnetV6 === null) throw bad("neither subnetV4 nor subnetV6 is set");

  const minMtu = subnetV6 === null ? MIN_LINK_MTU : MIN_LINK_MTU_V6;
  const mtu = value.mtu;
  if (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < minMtu || mtu > MAX_PACKET_LENGTH) {
    throw bad(`mtu must be an integer from ${minMtu} to ${MAX_PACKET_LENGTH}, got ${quote(mtu)}`);
  }

  const routes = stringArray(value.routes, "routes", MAX_ROUTES, bad);
  routes.forEach((route, index) => {
    const prefix = parseCidr(route);
    if (prefix === null) throw bad(`routes[${index}] ${quote(route)} is not a prefix like 10.0.0.0/8`);
    if (!prefix.hostBitsClear) throw bad(`routes[${index}] ${quote(route)} has host bits set`);
    if (prefix.family === 4 && subnetV4 === null) throw bad(`routes[${index}] is IPv4 but subnetV4 is null`);
    if (prefix.family === 6 && subnetV6 === null) throw bad(`routes[${index}] is IPv6 but subnetV6 is null`);
  });

  const config: LinkConfig = { subnetV4, subnetV6, mtu, routes, dns: parseDnsConfig(value.dns, bad) };
  if (value.reverse !== undefined) config.reverse = parseReverseConfig(value.reverse, bad);
  return config;
}

function parseReverseConfig(value: unknown, bad: (problem: string) => LinkError): ReverseExitConfig {
  if (!isRecord(value)) throw bad("reverse is not an object");
  const routes = stringArray(value.routes, "reverse.routes", MAX_ROUTES, bad);
  routes.forEach((route, index) => {
    const prefix = parseCidr(route);
    if (prefix === null || !prefix.hostBitsClear)
      throw bad(`reverse.routes[${index}] ${quote(route)} is not a prefix like 10.0.0.0/8`);
  });
  if (typeof value.allowLocal !== "boolean") throw bad("reverse.allowLocal is not a boolean");
  if (typeof value.dns !== "boolean") throw bad("reverse.dns is not a boolean");
  return { routes, allowLocal: value.allowLocal, dns: value.dns };
}

function parseDnsConfig(value: unknown, bad: (problem: string) => LinkError): LinkDnsConfig {
  if (!isRecord(value)) throw bad("dns is not an object");
  const mode = value.mode;
  if (mode === "off") return { mode };
  if (mode !== "all" && mode !== "split") throw bad(`dns.mode must be "off", "all" or "split"`);
  const servers = stringArray(value.servers, "dns.servers", MAX_DNS_SERVERS, bad);
  if (servers.length === 0) throw bad(`dns.servers is empty in mode "${mode}"`);
  servers.forEach((server, index) => {
    if (parseAddress(server) === null) {
      throw bad(`dns.servers[${index}] ${quote(server)} is not an IP address`);
    }
  });
  if (mode === "all") return { mode, servers };
  const domains = stringArray(value.domains, "dns.domains", MAX_DNS_DOMAINS, bad);
  if (domains.length === 0) throw bad(`dns.domains is empty in mode "split"`);
  domains.forEach((domain, index) => {
    if (!isDomainName(domain)) throw bad(`dns.domains[${index}] ${quote(domain)} is not a domain name`);
  });
  return { mode, servers, domains };
}

export function encodeConfig(config: LinkConfig): Buffer {
  // Validating our own output means a peer never has to reject what we send.
  return Buffer.from(JSON.stringify(parseLinkConfig(config)), "utf8");
}

export function decodeConfig(payload: Buffer): LinkConfig {
  return parseLinkConfig(parseJson(payload, "CONFIG"));
}

// ---------------------------------------------------------------------------------------------
// STATS

/** A link's counters since it was created. All are non-negative integers. */
export interface LinkCounters {
  framesIn: number;
  framesOut: number;
  /** Stream bytes, frame headers included. */
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** Frames whose payload did not decode: dropped. */
  malformedFrames: number;
  /** Frames of a type this version does not know: skipped. */
  unknownFrames: number;
  /** Packets and control frames dropped because the outbound queue was full. */
  queueDrops: number;
  /** Packets refused because they cannot be framed (empty, or over 65,535 bytes). */
  rejectedPackets: number;
}

export const LINK_COUNTER_NAMES = [
  "framesIn",
  "framesOut",
  "bytesIn",
  "bytesOut",
  "packetsIn",
  "packetsOut",
  "malformedFrames",
  "unknownFrames",
  "queueDrops",
  "rejectedPackets",
] as const satisfies readonly (keyof LinkCounters)[];

export function emptyLinkCounters(): LinkCounters {
  return {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    packetsIn: 0,
    packetsOut: 0,
    malformedFrames: 0,
    unknownFrames: 0,
    queueDrops: 0,
    rejectedPackets: 0,
  };
}

/** What one side reports about itself in a STATS frame. */
export interface StatsReport {
  /** The sender's clock, ms since the Unix epoch: informative, the clocks may disagree. */
  sentAt: number;
  /** The sender's last measured round-trip time in ms, or null before its first PONG. */
  rttMs: number | null;
  link: LinkCounters;
  /** Other numbers the sender tracks (TUN reads, NAT flows, ...), named like "tun.readErrors". */
  extra: Record<string, number>;
}

const EXTRA_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MAX_EXTRA_COUNTERS = 256;

/** A StatsReport from untrusted JSON, built afresh from the known fields; throws MALFORMED_PAYLOAD. */
export function parseStatsReport(value: unknown): StatsReport {
  const bad = (problem: string): LinkError => malformed("STATS", problem);
  if (!isRecord(value)) throw bad("not a JSON object");
  const { sentAt, rttMs, link, extra } = value;
  if (typeof sentAt !== "number" || !Number.isFinite(sentAt)) throw bad("sentAt is not a finite number");
  if (rttMs !== null && (typeof rttMs !== "number" || !Number.isFinite(rttMs) || rttMs < 0)) {
    throw bad("rttMs is neither null nor a non-negative number");
  }
  if (!isRecord(link)) throw bad("link is not an object");
  const counters = emptyLinkCounters();
  for (const name of LINK_COUNTER_NAMES) {
    const count = link[name];
    if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
      throw bad(`link.${name} is not a non-negative integer`);
    }
    counters[name] = count;
  }
  if (!isRecord(extra)) throw bad("extra is not an object");
  const entries = Object.entries(extra);
  if (entries.length > MAX_EXTRA_COUNTERS) throw bad(`extra has over ${MAX_EXTRA_COUNTERS} entries`);
  const extraCounters: Record<string, number> = {};
  for (const [name, count] of entries) {
    if (!EXTRA_NAME.test(name)) throw bad(`extra name ${quote(name)} is not like "tun.readErrors"`);
    if (typeof count !== "number" || !Number.isFinite(count)) throw bad(`extra.${name} is not a number`);
    extraCounters[name] = count;
  }
  return { sentAt, rttMs, link: counters, extra: extraCounters };
}

export function encodeStats(report: StatsReport): Buffer {
  return Buffer.from(JSON.stringify(parseStatsReport(report)), "utf8");
}

export function decodeStats(payload: Buffer): StatsReport {
  return parseStatsReport(parseJson(payload, "STATS"));
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch (error) {
    // JSON.parse throws SyntaxError, or RangeError on absurd nesting; either way, not our problem
    // to propagate: the frame is malformed.
    throw malformed(what, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** A value quoted for an error message, cut short so a hostile peer cannot flood the log. */
function quote(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value;
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function stringArray(
  value: unknown,
  field: string,
  maxLength: number,
  bad: (problem: string) => LinkError,
): string[] {
  if (!Array.isArray(value)) throw bad(`${field} is not an array`);
  if (value.length > maxLength) throw bad(`${field} has ${value.length} entries, over ${maxLength}`);
  const strings: string[] = [];
  for (const [index, item] of value.entries()) {
    if (typeof item !== "string") throw bad(`${field}[${index}] is not a string`);
    strings.push(item);
  }
  return strings;
}

function optionalSubnet(
  value: unknown,
  family: 4 | 6,
  field: string,
  bad: (problem: string) => LinkError,
): string | null {
  if (value === null || value === undefined) return null;
  const prefix = typeof value === "string" ? parseCidr(value) : null;
  if (typeof value !== "string" || prefix === null || prefix.family !== family) {
    throw bad(`${field} ${quote(value)} is not an IPv${family} prefix in CIDR form`);
  }
  if (!prefix.hostBitsClear) throw bad(`${field} ${quote(value)} has host bits set`);
  // A link needs room for two hosts: the entrance's address and the exit's stub.
  const maxPrefix = family === 4 ? 30 : 126;
  if (prefix.length > maxPrefix) throw bad(`${field} ${quote(value)} is narrower than /${maxPrefix}`);
  return value;
}

function parseCidr(text: string): ParsedPrefix | null {
  const result = parsePrefix(text);
  return result.ok ? result.prefix : null;
}

const DOMAIN_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** A DNS name of letter-digit-hyphen (or underscore) labels, a trailing dot or not; not the root. */
export function isDomainName(name: string): boolean {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  if (trimmed.length === 0 || trimmed.length > 253) return false;
  return trimmed.split(".").every((label) => DOMAIN_LABEL.test(label));
}
