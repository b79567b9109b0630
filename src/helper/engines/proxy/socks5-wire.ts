/**
 * SOCKS5 messages (RFC 1928) and username/password sub-negotiation (RFC 1929), as pure parsers
 * over the bytes received so far and encoders of the replies. No I/O: the session feeds bytes in.
 * Every field is bounded by its own length byte, so a request can never exceed 262 bytes.
 */
import { isIP } from "node:net";
import { formatAddress, parseAddress } from "../packet/address.js";
import type { StreamTarget } from "../../../shared/link-streams.js";
import { INCOMPLETE, invalid, type ParseResult } from "./parse-result.js";

export const SOCKS_VERSION = 5;
export const AUTH_VERSION = 1;
export const Method = { NoAuthentication: 0x00, UsernamePassword: 0x02, NoAcceptable: 0xff } as const;
export const Command = { Connect: 1, Bind: 2, UdpAssociate: 3 } as const;
export const AddressType = { Ipv4: 1, Name: 3, Ipv6: 4 } as const;
export const Reply = {
  Succeeded: 0,
  GeneralFailure: 1,
  NotAllowed: 2,
  NetworkUnreachable: 3,
  HostUnreachable: 4,
  Refused: 5,
  TtlExpired: 6,
  CommandNotSupported: 7,
  AddressTypeNotSupported: 8,
} as const;
export type Reply = (typeof Reply)[keyof typeof Reply];

export interface Greeting {
  methods: number[];
}

/** VER NMETHODS METHODS... */
export function parseGreeting(bytes: Buffer): ParseResult<Greeting> {
  if (bytes.length < 2) return INCOMPLETE;
  if (bytes[0] !== SOCKS_VERSION) return invalid(`SOCKS version ${bytes[0]} is not 5`);
  const count = bytes[1]!;
  if (count === 0) return invalid("the greeting offers no method");
  if (bytes.length < 2 + count) return INCOMPLETE;
  return { status: "ok", value: { methods: [...bytes.subarray(2, 2 + count)] }, length: 2 + count };
}

export interface UserPass {
  username: Buffer;
  password: Buffer;
}

/** RFC 1929: VER ULEN UNAME PLEN PASSWD. */
export function parseUserPass(bytes: Buffer): ParseResult<UserPass> {
  if (bytes.length < 2) return INCOMPLETE;
  if (bytes[0] !== AUTH_VERSION) return invalid(`username/password version ${bytes[0]} is not 1`);
  const userLength = bytes[1]!;
  if (bytes.length < 3 + userLength) return INCOMPLETE;
  const passwordLength = bytes[2 + userLength]!;
  const end = 3 + userLength + passwordLength;
  if (bytes.length < end) return INCOMPLETE;
  return {
    status: "ok",
    value: { username: bytes.subarray(2, 2 + userLength), password: bytes.subarray(3 + userLength, end) },
    length: end,
  };
}

/** ATYP ADDR PORT at `offset`; invalid for an unknown type or an empty name. */
export function parseAddressField(bytes: Buffer, offset: number): ParseResult<StreamTarget> | "bad-type" {
  if (bytes.length < offset + 1) return INCOMPLETE;
  const type = bytes[offset]!;
  let start = offset + 1;
  let end: number;
  if (type === AddressType.Ipv4) end = start + 4;
  else if (type === AddressType.Ipv6) end = start + 16;
  else if (type === AddressType.Name) {
    if (bytes.length < start + 1) return INCOMPLETE;
    const nameLength = bytes[start]!;
    if (nameLength === 0) return invalid("an empty name");
    start += 1;
    end = start + nameLength;
  } else return "bad-type";
  if (bytes.length < end + 2) return INCOMPLETE;
  const port = bytes.readUInt16BE(end);
  const field = bytes.subarray(start, end);
  const target: StreamTarget =
    type === AddressType.Name
      ? { kind: "name", name: field.toString("latin1"), port }
      : { kind: "address", address: formatAddress(field), port };
  return { status: "ok", value: target, length: end + 2 - offset };
}

export interface SocksRequest {
  command: number;
  target: StreamTarget;
}

export type RequestResult = ParseResult<SocksRequest> | { status: "refused"; reply: Reply; reason: string };

/** VER CMD RSV ATYP DST.ADDR DST.PORT; unknown address types are answered with reply 8. */
export function parseRequest(bytes: Buffer): RequestResult {
  if (bytes.length < 4) return INCOMPLETE;
  if (bytes[0] !== SOCKS_VERSION) return invalid(`SOCKS version ${bytes[0]} is not 5`);
  const command = bytes[1]!;
  const address = parseAddressField(bytes, 3);
  if (address === "bad-type")
    return { status: "refused", reply: Reply.AddressTypeNotSupported, reason: `address type ${bytes[3]}` };
  if (address.status !== "ok") return address;
  if (address.value.kind === "name" && !isPlausibleName(address.value.name))
    return { status: "refused", reply: Reply.HostUnreachable, reason: "the name has bytes no host name has" };
  return { status: "ok", value: { command, target: address.value }, length: 3 + address.length };
}

/** Printable ASCII without spaces: anything else is no DNS name and must not reach logs raw. */
function isPlausibleName(name: string): boolean {
  return /^[\x21-\x7e]+$/.test(name);
}

/** ATYP ADDR PORT for an address or name. */
export function encodeAddressField(target: StreamTarget): Buffer {
  if (target.kind === "name") {
    const name = Buffer.from(target.name, "latin1");
    const out = Buffer.alloc(4 + name.length);
    out[0] = AddressType.Name;
    out[1] = name.length;
    name.copy(out, 2);
    out.writeUInt16BE(target.port, 2 + name.length);
    return out;
  }
  const bytes = parseAddress(target.address);
  const out = Buffer.alloc(3 + bytes.length);
  out[0] = bytes.length === 4 ? AddressType.Ipv4 : AddressType.Ipv6;
  bytes.copy(out, 1);
  out.writeUInt16BE(target.port, 1 + bytes.length);
  return out;
}

/** VER REP RSV ATYP BND.ADDR BND.PORT; an unspecified IPv4 address when there is no bound one. */
export function encodeReply(reply: Reply, bound?: { address: string; port: number }): Buffer {
  const address = bound && isIP(bound.address) !== 0 ? bound : { address: "0.0.0.0", port: bound?.port ?? 0 };
  return Buffer.concat([
    Buffer.from([SOCKS_VERSION, reply, 0]),
    encodeAddressField({ kind: "address", ...address }),
  ]);
}

export interface UdpRequestHeader {
  target: StreamTarget;
  /** Offset of DATA in the datagram. */
  dataOffset: number;
}

/**
 * RFC 1928 section 7: RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA. Fragments (FRAG != 0) are not
 * supported and dropped, as the RFC allows.
 */
export function parseUdpHeader(datagram: Buffer): UdpRequestHeader | string {
  if (datagram.length < 4) return "shorter than the SOCKS UDP header";
  if (datagram[0] !== 0 || datagram[1] !== 0) return "reserved bytes are not zero";
  if (datagram[2] !== 0) return `fragment ${datagram[2]} (fragmentation is not supported)`;
  const address = parseAddressField(datagram, 3);
  if (address === "bad-type") return `address type ${datagram[3]}`;
  if (address.status === "incomplete") return "the address is cut short";
  if (address.status === "invalid") return address.reason;
  return { target: address.value, dataOffset: 3 + address.length };
}

/** The header a relayed reply carries: the source it came from. */
export function encodeUdpHeader(source: { address: string; port: number }): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0]), encodeAddressField({ kind: "address", ...source })]);
}
