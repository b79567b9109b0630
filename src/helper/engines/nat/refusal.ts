import { StreamStatus } from "../../../shared/link-streams.js";
import {
  buildIcmpErrorPacket,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6ParameterProblemCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  type IpView,
} from "../packet/index.js";

/** The packet an ICMP error is about: an IpView, or a kept copy of its first bytes. */
export interface OffendingPacket {
  src: Uint8Array;
  dst: Uint8Array;
  buf: Uint8Array;
}

function unreachable(original: OffendingPacket, v4Code: number, v6Code: number): Buffer {
  const v6 = original.src.length === 16;
  return buildIcmpErrorPacket({
    original,
    type: v6 ? Icmpv6Type.DEST_UNREACHABLE : Icmpv4Type.DEST_UNREACHABLE,
    code: v6 ? v6Code : v4Code,
  });
}

/**
 * An ICMP "administratively prohibited" for a packet the egress policy refuses: the remote
 * program fails at once ("No route to host") instead of waiting on silence.
 */
export function adminProhibited(original: OffendingPacket): Buffer {
  return unreachable(
    original,
    Icmpv4UnreachableCode.ADMIN_PROHIBITED,
    Icmpv6UnreachableCode.ADMIN_PROHIBITED,
  );
}

/** What a closed UDP port answers. */
export function portUnreachable(original: OffendingPacket): Buffer {
  return unreachable(original, Icmpv4UnreachableCode.PORT, Icmpv6UnreachableCode.PORT);
}

/**
 * What a host answers a packet of a protocol it does not speak (RFC 1122 §3.2.2.1, RFC 4443
 * §3.4): ICMP protocol unreachable, or an ICMPv6 parameter problem pointing at the Next Header
 * field that names the protocol.
 */
export function protocolUnreachable(ip: IpView): Buffer {
  if (ip.version === 4) {
    return buildIcmpErrorPacket({
      original: ip,
      type: Icmpv4Type.DEST_UNREACHABLE,
      code: Icmpv4UnreachableCode.PROTOCOL,
    });
  }
  return buildIcmpErrorPacket({
    original: ip,
    type: Icmpv6Type.PARAMETER_PROBLEM,
    code: Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER,
    restOfHeader: ip.nextHeaderOffset,
  });
}

/**
 * Whether `src` names one host an ICMP error may go to: never the unspecified address, a
 * multicast or broadcast one, nor IPv4's reserved 240/4 (RFC 1122 §3.2.2, RFC 4443 §2.4(e)).
 */
export function isSingleHostSource(src: Uint8Array): boolean {
  if (src.length === 4) return src[0] !== 0 && src[0]! < 224;
  return src[0] !== 0xff && src.some((byte) => byte !== 0);
}

/** The destination could not be reached (no route, or the connect timed out). */
export function hostUnreachable(original: OffendingPacket, noRoute: boolean): Buffer {
  return unreachable(
    original,
    noRoute ? Icmpv4UnreachableCode.NET : Icmpv4UnreachableCode.HOST,
    noRoute ? Icmpv6UnreachableCode.NO_ROUTE : Icmpv6UnreachableCode.ADDRESS,
  );
}

/**
 * What the remote hears when a socket of this computer fails towards the destination (a UDP
 * connect or send, an ICMP echo send, a TCP dial), as a router or the destination would tell it,
 * instead of silence: one mapping for every protocol. Congestion (a full buffer, a datagram too
 * big) is a quiet loss of that datagram, as on any router: undefined.
 */
export function socketErrorRefusal(code: string, original: OffendingPacket): Buffer | undefined {
  switch (code) {
    case "ECONNREFUSED":
      return portUnreachable(original);
    case "EACCES":
    case "EPERM":
      return adminProhibited(original);
    case "ENETUNREACH":
    case "ENETDOWN":
      return hostUnreachable(original, true);
    case "ENOBUFS":
    case "EAGAIN":
    case "EWOULDBLOCK":
    case "ENOMEM":
    case "EMSGSIZE":
      return undefined;
    default:
      return hostUnreachable(original, false);
  }
}

/**
 * The STREAM_OPENED status for a dial this computer's kernel refused, as socketErrorRefusal's
 * ICMP answers are for packets (see link-streams.ts).
 */
export function dialStatus(code: string): StreamStatus {
  switch (code) {
    case "ECONNREFUSED":
      return StreamStatus.Refused;
    case "EACCES":
    case "EPERM":
      return StreamStatus.NotAllowed;
    case "ENETUNREACH":
    case "ENETDOWN":
      return StreamStatus.NetworkUnreachable;
    case "ETIMEDOUT":
      return StreamStatus.TimedOut;
    default:
      return StreamStatus.HostUnreachable;
  }
}
