/**
 * A probe (one packet the fuzzer sends and what the exit owes it), and how a packet from the exit
 * is matched to the probe it answers: by the 5-tuple, reversed, or by the header an ICMP error
 * quotes.
 */
import {
  IcmpView,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  IpProtocol,
  parseIp,
  TcpFlag,
  TcpView,
  UdpView,
} from "../../src/helper/engines/packet/index.js";

/** Kinds of answer, as bits: a probe accepts a set of them. */
export const Answer = {
  RST: 1,
  SYN_ACK: 2,
  /** Any other TCP segment (data, a FIN, an ACK). */
  TCP_OTHER: 4,
  /** ICMP destination unreachable, any code. */
  UNREACH: 8,
  ECHO_REPLY: 16,
  UDP: 32,
  /** Any other ICMP. */
  ICMP_OTHER: 64,
  /** ICMPv4 protocol unreachable (type 3 code 2): not counted as UNREACH. */
  PROTOCOL_UNREACH: 128,
  /** ICMPv6 parameter problem (type 4), any code. */
  PARAM_PROBLEM: 256,
} as const;

export function answerName(kind: number): string {
  return Object.entries(Answer).find(([, bit]) => bit === kind)?.[0] ?? `kind ${kind}`;
}

export interface Probe {
  packet: Buffer;
  /** The key its answers carry; null for packets nothing answers (ICMP errors from the remote). */
  key: string | null;
  /** Answers the exit may send (Answer bits); any other answer fails the run. */
  accept: number;
  /** Silence fails the run: the exit owes a refusal or a reply. */
  required: boolean;
  /** Opens a flow or a connect: bounded in flight, so that no limit of the exit is reached. */
  dials: boolean;
  /**
   * A SYN that needs a connect: the exit may drop it while its dial queue is full (like a full
   * SYN queue), so it is sent again as the remote's kernel would, after 1, 2, 4 and 8 s.
   */
  retransmit: boolean;
  /** How long the answer may take. */
  deadlineMs: number;
  /**
   * The one ICMP error it is owed, exactly: an answer of another type or code (or, for a
   * parameter problem, another pointer) fails the run.
   */
  icmpError?: IcmpErrorShape;
  label: string;
}

export interface IcmpErrorShape {
  type: number;
  code: number;
  /** A parameter problem's pointer (its rest of header); 0 for the others. */
  pointer: number;
}

/** Transports keyed by their ports or echo ids; `ip<N>` is any other protocol, keyed by a tag. */
type KeyProtocol = "tcp" | "udp" | "echo" | `ip${number}`;

/** The key of a probe: protocol, addresses and ports (echo: identifier and sequence). */
export function probeKey(
  protocol: KeyProtocol,
  src: Uint8Array,
  dst: Uint8Array,
  a: number,
  b: number,
): string {
  return `${protocol} ${Buffer.from(src).toString("hex")} ${Buffer.from(dst).toString("hex")} ${a} ${b}`;
}

export interface ExitAnswer {
  /** The key of the probe it answers. */
  key: string;
  kind: number;
  /** Who it claims to come from: a destination, or (ICMP errors) the reporter. */
  from: string;
  /** The TCP segment's ack (to reset a flow the fuzzer does not want). */
  tcp?: { srcPort: number; dstPort: number; ack: number; seq: number; flags: number };
  /** An ICMP error's type, code and pointer. */
  icmp?: IcmpErrorShape;
}

/** IPv6 extension headers (RFC 8200 §4, RFC 7045): what Ipv6View walks past too. */
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTHENTICATION = 51;
const DESTINATION_OPTIONS = 60;
const EXTENSION_HEADERS: ReadonlySet<number> = new Set([
  HOP_BY_HOP,
  ROUTING,
  FRAGMENT,
  AUTHENTICATION,
  DESTINATION_OPTIONS,
  135,
  139,
  140,
]);

/** The upper layer of an IPv6 packet (or the start of one), past its extension headers. */
function ipv6UpperLayer(packet: Buffer): { protocol: number; offset: number } | undefined {
  let protocol = packet[6]!;
  let offset = 40;
  while (EXTENSION_HEADERS.has(protocol)) {
    if (packet.length < offset + 8) return undefined;
    const length =
      protocol === FRAGMENT
        ? 8
        : protocol === AUTHENTICATION
          ? (packet[offset + 1]! + 2) * 4
          : (packet[offset + 1]! + 1) * 8;
    protocol = packet[offset]!;
    offset += length;
  }
  return { protocol, offset };
}

/**
 * The key of an IP packet, or of the start of one an ICMP error quotes: its transport's ports
 * (echo: identifier and sequence), or for any other protocol the 32-bit tag its payload starts
 * with. IPv6 extension headers are walked; ICMP counts only in its own family.
 */
export function packetKey(packet: Buffer): string | undefined {
  if (packet.length < 1) return undefined;
  const version = packet[0]! >> 4;
  let protocol: number;
  let src: Buffer;
  let dst: Buffer;
  let transport: Buffer;
  if (version === 4 && packet.length >= 20) {
    const headerLength = (packet[0]! & 0x0f) * 4;
    protocol = packet[9]!;
    src = packet.subarray(12, 16);
    dst = packet.subarray(16, 20);
    transport = packet.subarray(headerLength);
  } else if (version === 6 && packet.length >= 40) {
    const upper = ipv6UpperLayer(packet);
    if (!upper) return undefined;
    protocol = upper.protocol;
    src = packet.subarray(8, 24);
    dst = packet.subarray(24, 40);
    transport = packet.subarray(upper.offset);
  } else return undefined;
  if (protocol === IpProtocol.TCP || protocol === IpProtocol.UDP) {
    if (transport.length < 4) return undefined;
    const name = protocol === IpProtocol.TCP ? "tcp" : "udp";
    return probeKey(name, src, dst, transport.readUInt16BE(0), transport.readUInt16BE(2));
  }
  if (protocol === (version === 4 ? IpProtocol.ICMP : IpProtocol.ICMPV6)) {
    if (transport.length < 8) return undefined;
    return probeKey("echo", src, dst, transport.readUInt16BE(4), transport.readUInt16BE(6));
  }
  if (transport.length < 4) return undefined;
  return probeKey(`ip${protocol}`, src, dst, transport.readUInt32BE(0), 0);
}

/** What a packet from the exit answers, or undefined when it answers no probe shape we know. */
export function classifyAnswer(packet: Buffer): ExitAnswer | undefined {
  const ip = parseIp(packet);
  const from = Buffer.from(ip.src).toString("hex");
  switch (ip.protocol) {
    case IpProtocol.TCP: {
      const tcp = TcpView.parse(ip.payload);
      const flags = tcp.flags;
      const kind =
        flags & TcpFlag.RST
          ? Answer.RST
          : (flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)
            ? Answer.SYN_ACK
            : Answer.TCP_OTHER;
      return {
        key: probeKey("tcp", ip.dst, ip.src, tcp.dstPort, tcp.srcPort),
        kind,
        from,
        tcp: { srcPort: tcp.srcPort, dstPort: tcp.dstPort, ack: tcp.ack, seq: tcp.seq, flags },
      };
    }
    case IpProtocol.UDP: {
      const udp = UdpView.parse(ip.payload);
      return { key: probeKey("udp", ip.dst, ip.src, udp.dstPort, udp.srcPort), kind: Answer.UDP, from };
    }
    case IpProtocol.ICMP:
    case IpProtocol.ICMPV6: {
      const icmp = IcmpView.parse(ip.payload, ip.version);
      const v4 = ip.version === 4;
      if (icmp.type === (v4 ? Icmpv4Type.ECHO_REPLY : Icmpv6Type.ECHO_REPLY)) {
        return {
          key: probeKey("echo", ip.dst, ip.src, icmp.identifier, icmp.sequence),
          kind: Answer.ECHO_REPLY,
          from,
        };
      }
      const key = packetKey(icmp.payload);
      if (key === undefined) return undefined;
      const unreachable = icmp.type === (v4 ? Icmpv4Type.DEST_UNREACHABLE : Icmpv6Type.DEST_UNREACHABLE);
      const kind = !unreachable
        ? !v4 && icmp.type === Icmpv6Type.PARAMETER_PROBLEM
          ? Answer.PARAM_PROBLEM
          : Answer.ICMP_OTHER
        : v4 && icmp.code === Icmpv4UnreachableCode.PROTOCOL
          ? Answer.PROTOCOL_UNREACH
          : Answer.UNREACH;
      const pointer = kind === Answer.PARAM_PROBLEM ? icmp.restOfHeader : 0;
      return { key, kind, from, icmp: { type: icmp.type, code: icmp.code, pointer } };
    }
    default:
      return undefined;
  }
}
