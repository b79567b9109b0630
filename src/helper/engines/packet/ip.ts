import { IpProtocol } from "./constants.js";
import { PacketError } from "./errors.js";
import { IcmpView } from "./icmp.js";
import { Ipv4View } from "./ipv4.js";
import { Ipv6View } from "./ipv6.js";
import { TcpView } from "./tcp.js";
import { UdpView } from "./udp.js";

export type IpView = Ipv4View | Ipv6View;

/** Parses an IP packet of either version, chosen by its version nibble. */
export function parseIp(packet: Buffer): IpView {
  if (packet.length === 0) throw new PacketError("truncated", "empty packet");
  const version = packet[0]! >> 4;
  if (version === 4) return Ipv4View.parse(packet);
  if (version === 6) return Ipv6View.parse(packet);
  throw new PacketError("bad-version", `IP version ${version} is neither 4 nor 6`);
}

export type TransportView =
  | { readonly kind: "tcp"; readonly tcp: TcpView }
  | { readonly kind: "udp"; readonly udp: UdpView }
  | { readonly kind: "icmp"; readonly icmp: IcmpView }
  | { readonly kind: "other"; readonly protocol: number };

/**
 * Parses the upper-layer header of an unfragmented packet. Fragments are refused: Backhaul's
 * link MTU is its own, so the remote kernel does not fragment what it sends into the tunnel,
 * and reassembly is not implemented.
 */
export function parseTransport(ip: IpView): TransportView {
  if (ip.isFragment) throw new PacketError("fragment", "fragmented IP packets are not reassembled");
  const protocol = ip.protocol;
  if (protocol === IpProtocol.TCP) return { kind: "tcp", tcp: TcpView.parse(ip.payload) };
  if (protocol === IpProtocol.UDP) return { kind: "udp", udp: UdpView.parse(ip.payload) };
  if (
    (protocol === IpProtocol.ICMP && ip.version === 4) ||
    (protocol === IpProtocol.ICMPV6 && ip.version === 6)
  ) {
    return { kind: "icmp", icmp: IcmpView.parse(ip.payload, ip.version) };
  }
  return { kind: "other", protocol };
}
