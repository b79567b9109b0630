import {
  buildIcmpErrorPacket,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
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
