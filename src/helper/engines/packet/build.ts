import { finishChecksum, pseudoHeaderSum, sumWords } from "./checksum.js";
import {
  ICMP_HEADER_LENGTH,
  Icmpv4Type,
  Icmpv6Type,
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  IpProtocol,
  TCP_HEADER_LENGTH,
  UDP_HEADER_LENGTH,
} from "./constants.js";
import { PacketError } from "./errors.js";
import { tcpOptionsLength, writeTcpOptions, type TcpOptions } from "./tcp.js";

/**
 * Packet builders. Each `write*` function writes a whole IP packet into the caller's buffer at
 * `offset` and returns the number of bytes written, so a hot path can build straight into a
 * batch buffer; each `build*` allocates an exact-size Buffer. The IP version follows the length
 * of `src` (4 or 16 bytes). Inputs are only read: the builder keeps no reference to them.
 */
export interface IpSpec {
  src: Uint8Array;
  dst: Uint8Array;
  /** TTL / hop limit; 64 unless given. */
  hopLimit?: number;
  /** IPv4 identification; 0 unless given (DF is set, so it is not needed for reassembly). */
  identification?: number;
  /** IPv4 TOS or IPv6 traffic class. */
  tos?: number;
  flowLabel?: number;
}

/**
 * A payload that writes itself into the packet: lets a sender copy straight from its own
 * buffers (a queue of socket chunks) into the output, without first joining them.
 */
export interface PayloadWriter {
  readonly length: number;
  writeTo(target: Buffer, offset: number): void;
}

export interface TcpSpec extends IpSpec {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TcpFlag bits. */
  flags: number;
  window: number;
  urgentPointer?: number;
  options?: TcpOptions;
  payload?: Uint8Array | PayloadWriter;
}

export interface UdpSpec extends IpSpec {
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
}

export interface IcmpSpec extends IpSpec {
  type: number;
  code: number;
  /** The 32-bit rest-of-header (echo: identifier << 16 | sequence; packet-too-big: MTU). */
  restOfHeader: number;
  payload?: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function ipHeaderLength(spec: IpSpec): number {
  if (spec.src.length === 4 && spec.dst.length === 4) return IPV4_HEADER_LENGTH;
  if (spec.src.length === 16 && spec.dst.length === 16) return IPV6_HEADER_LENGTH;
  throw new PacketError(
    "invalid-spec",
    `source and destination must both be IPv4 or both IPv6 (got ${spec.src.length} and ${spec.dst.length} bytes)`,
  );
}

function ensureRoom(out: Buffer, offset: number, length: number): void {
  if (length > 0xffff + IPV6_HEADER_LENGTH) {
    throw new PacketError("invalid-spec", `a packet of ${length} bytes exceeds the IP length limit`);
  }
  if (offset < 0 || offset + length > out.length) {
    throw new PacketError("invalid-spec", `a packet of ${length} bytes does not fit the output buffer`);
  }
}

/** A `build*` from its `*PacketLength` and `write*`: an exact-size Buffer, written at offset 0. */
function allocating<Spec>(
  length: (spec: Spec) => number,
  write: (out: Buffer, offset: number, spec: Spec) => number,
): (spec: Spec) => Buffer {
  return (spec) => {
    const out = Buffer.allocUnsafe(length(spec));
    write(out, 0, spec);
    return out;
  };
}

/** The checksum of the transport bytes at [start, start + length), pseudo-header included. */
function transportChecksum(
  out: Buffer,
  start: number,
  length: number,
  spec: IpSpec,
  protocol: number,
): number {
  return finishChecksum(
    sumWords(out, start, start + length, pseudoHeaderSum(spec.src, spec.dst, protocol, length)),
  );
}

/**
 * Writes the IP header for an upper-layer payload of `payloadLength` bytes; returns its length.
 * Checks first that the header and the payload fit `out` at `offset`.
 */
export function writeIpHeader(
  out: Buffer,
  offset: number,
  spec: IpSpec,
  protocol: number,
  payloadLength: number,
): number {
  ensureRoom(out, offset, ipHeaderLength(spec) + payloadLength);
  const hopLimit = spec.hopLimit ?? 64;
  if (spec.src.length === 4) {
    const total = IPV4_HEADER_LENGTH + payloadLength;
    if (total > 0xffff) throw new PacketError("invalid-spec", `IPv4 packet of ${total} bytes is too long`);
    out[offset] = 0x45;
    out[offset + 1] = spec.tos ?? 0;
    out.writeUInt16BE(total, offset + 2);
    out.writeUInt16BE(spec.identification ?? 0, offset + 4);
    out.writeUInt16BE(0x4000, offset + 6); // DF: our packets are never fragmented on the way
    out[offset + 8] = hopLimit;
    out[offset + 9] = protocol;
    out.writeUInt16BE(0, offset + 10);
    out.set(spec.src, offset + 12);
    out.set(spec.dst, offset + 16);
    out.writeUInt16BE(finishChecksum(sumWords(out, offset, offset + IPV4_HEADER_LENGTH)), offset + 10);
    return IPV4_HEADER_LENGTH;
  }
  if (payloadLength > 0xffff)
    throw new PacketError("invalid-spec", `IPv6 payload of ${payloadLength} bytes is too long`);
  out.writeUInt32BE((0x60000000 | ((spec.tos ?? 0) << 20) | ((spec.flowLabel ?? 0) & 0xfffff)) >>> 0, offset);
  out.writeUInt16BE(payloadLength, offset + 4);
  out[offset + 6] = protocol;
  out[offset + 7] = hopLimit;
  out.set(spec.src, offset + 8);
  out.set(spec.dst, offset + 24);
  return IPV6_HEADER_LENGTH;
}

export function tcpPacketLength(spec: TcpSpec): number {
  return (
    ipHeaderLength(spec) + TCP_HEADER_LENGTH + tcpOptionsLength(spec.options) + (spec.payload ?? EMPTY).length
  );
}

export function writeTcpPacket(out: Buffer, offset: number, spec: TcpSpec): number {
  const payload = spec.payload ?? EMPTY;
  const optionsLength = tcpOptionsLength(spec.options);
  const headerLength = TCP_HEADER_LENGTH + optionsLength;
  if (headerLength > 60)
    throw new PacketError("invalid-spec", `TCP options of ${optionsLength} bytes exceed 40`);
  const segmentLength = headerLength + payload.length;
  const t = offset + writeIpHeader(out, offset, spec, IpProtocol.TCP, segmentLength);
  out.writeUInt16BE(spec.srcPort, t);
  out.writeUInt16BE(spec.dstPort, t + 2);
  out.writeUInt32BE(spec.seq >>> 0, t + 4);
  out.writeUInt32BE(spec.ack >>> 0, t + 8);
  out[t + 12] = (headerLength / 4) << 4;
  out[t + 13] = spec.flags & 0xff;
  out.writeUInt16BE(spec.window, t + 14);
  out.writeUInt16BE(0, t + 16);
  out.writeUInt16BE(spec.urgentPointer ?? 0, t + 18);
  if (spec.options && optionsLength > 0)
    writeTcpOptions(out, t + TCP_HEADER_LENGTH, spec.options, optionsLength);
  if (payload instanceof Uint8Array) out.set(payload, t + headerLength);
  else payload.writeTo(out, t + headerLength);
  out.writeUInt16BE(transportChecksum(out, t, segmentLength, spec, IpProtocol.TCP), t + 16);
  return t + segmentLength - offset;
}

export const buildTcpPacket = allocating(tcpPacketLength, writeTcpPacket);

export function udpPacketLength(spec: UdpSpec): number {
  return ipHeaderLength(spec) + UDP_HEADER_LENGTH + (spec.payload ?? EMPTY).length;
}

export function writeUdpPacket(out: Buffer, offset: number, spec: UdpSpec): number {
  const payload = spec.payload ?? EMPTY;
  const datagramLength = UDP_HEADER_LENGTH + payload.length;
  if (datagramLength > 0xffff)
    throw new PacketError("invalid-spec", `UDP datagram of ${datagramLength} bytes is too long`);
  const u = offset + writeIpHeader(out, offset, spec, IpProtocol.UDP, datagramLength);
  out.writeUInt16BE(spec.srcPort, u);
  out.writeUInt16BE(spec.dstPort, u + 2);
  out.writeUInt16BE(datagramLength, u + 4);
  out.writeUInt16BE(0, u + 6);
  out.set(payload, u + UDP_HEADER_LENGTH);
  // A computed zero is sent as 0xffff: zero means "no checksum" (RFC 768).
  out.writeUInt16BE(transportChecksum(out, u, datagramLength, spec, IpProtocol.UDP) || 0xffff, u + 6);
  return u + datagramLength - offset;
}

export const buildUdpPacket = allocating(udpPacketLength, writeUdpPacket);

export function icmpPacketLength(spec: IcmpSpec): number {
  return ipHeaderLength(spec) + ICMP_HEADER_LENGTH + (spec.payload ?? EMPTY).length;
}

/** ICMPv4 or ICMPv6 by address family; type and code are taken as given. */
export function writeIcmpPacket(out: Buffer, offset: number, spec: IcmpSpec): number {
  const payload = spec.payload ?? EMPTY;
  const messageLength = ICMP_HEADER_LENGTH + payload.length;
  const v6 = spec.src.length === 16;
  const protocol = v6 ? IpProtocol.ICMPV6 : IpProtocol.ICMP;
  const m = offset + writeIpHeader(out, offset, spec, protocol, messageLength);
  out[m] = spec.type;
  out[m + 1] = spec.code;
  out.writeUInt16BE(0, m + 2);
  out.writeUInt32BE(spec.restOfHeader >>> 0, m + 4);
  out.set(payload, m + ICMP_HEADER_LENGTH);
  // Only ICMPv6's checksum covers a pseudo-header.
  const sum = v6
    ? transportChecksum(out, m, messageLength, spec, protocol)
    : finishChecksum(sumWords(out, m, m + messageLength));
  out.writeUInt16BE(sum, m + 2);
  return m + messageLength - offset;
}

export const buildIcmpPacket = allocating(icmpPacketLength, writeIcmpPacket);

export interface IcmpEchoSpec extends IpSpec {
  kind: "request" | "reply";
  identifier: number;
  sequence: number;
  payload?: Uint8Array;
}

/** An echo request or reply: ICMPv4 types 8/0 or ICMPv6 types 128/129 by address family. */
export function buildIcmpEchoPacket(spec: IcmpEchoSpec): Buffer {
  const v6 = spec.src.length === 16;
  const type =
    spec.kind === "request"
      ? v6
        ? Icmpv6Type.ECHO_REQUEST
        : Icmpv4Type.ECHO_REQUEST
      : v6
        ? Icmpv6Type.ECHO_REPLY
        : Icmpv4Type.ECHO_REPLY;
  return buildIcmpPacket({
    ...spec,
    type,
    code: 0,
    restOfHeader: ((spec.identifier & 0xffff) << 16) | (spec.sequence & 0xffff),
  });
}

/** How much of the offending packet an ICMP error quotes: RFC 1812 §4.3.2.3 and RFC 4443 §2.4(c). */
const MAX_ICMPV4_ERROR = 576;
const MAX_ICMPV6_ERROR = 1280;

export interface IcmpErrorSpec {
  /** The packet that could not be delivered; the error goes back to its source. */
  original: { src: Uint8Array; dst: Uint8Array; buf: Uint8Array };
  /** Who reports the error; defaults to the original destination (the host "answering"). */
  reporter?: Uint8Array;
  type: number;
  code: number;
  restOfHeader?: number;
}

/** An ICMP error about `original`, quoting as much of it as the minimum MTU allows. */
export function buildIcmpErrorPacket(spec: IcmpErrorSpec): Buffer {
  const { original } = spec;
  const v6 = original.src.length === 16;
  const ipLength = v6 ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH;
  const room = (v6 ? MAX_ICMPV6_ERROR : MAX_ICMPV4_ERROR) - ipLength - ICMP_HEADER_LENGTH;
  return buildIcmpPacket({
    src: spec.reporter ?? original.dst,
    dst: original.src,
    type: spec.type,
    code: spec.code,
    restOfHeader: spec.restOfHeader ?? 0,
    payload: original.buf.subarray(0, Math.min(room, original.buf.length)),
  });
}
