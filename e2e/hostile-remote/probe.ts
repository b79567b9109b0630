/**
 * A probe (one packet the fuzzer sends and what the exit owes it), and how a packet from the exit
 * is matched to the probe it answers: by the 5-tuple, reversed, or by the header an ICMP error
 * quotes.
 */
import {
  IcmpView,
  Icmpv4Type,
  Icmpv6Type,
  IpProtocol,
  parseIp,
  TcpFlag,
  TcpView,
  UdpView,
} from "../../src/helper/packet/index.js";

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
  label: string;
}

type KeyProtocol = "tcp" | "udp" | "echo";

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
}

/** The key a quoted packet (the start of an IP packet inside an ICMP error) belongs to. */
function quotedKey(quote: Buffer): string | undefined {
  if (quote.length < 1) return undefined;
  const version = quote[0]! >> 4;
  let protocol: number;
  let src: Buffer;
  let dst: Buffer;
  let transport: Buffer;
  if (version === 4 && quote.length >= 20) {
    const headerLength = (quote[0]! & 0x0f) * 4;
    protocol = quote[9]!;
    src = quote.subarray(12, 16);
    dst = quote.subarray(16, 20);
    transport = quote.subarray(headerLength);
  } else if (version === 6 && quote.length >= 40) {
    protocol = quote[6]!;
    src = quote.subarray(8, 24);
    dst = quote.subarray(24, 40);
    transport = quote.subarray(40);
  } else return undefined;
  if (transport.length < 8) return undefined;
  if (protocol === IpProtocol.TCP || protocol === IpProtocol.UDP) {
    const name = protocol === IpProtocol.TCP ? "tcp" : "udp";
    return probeKey(name, src, dst, transport.readUInt16BE(0), transport.readUInt16BE(2));
  }
  if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPV6)
    return probeKey("echo", src, dst, transport.readUInt16BE(4), transport.readUInt16BE(6));
  return undefined;
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
      const key = quotedKey(icmp.payload);
      if (key === undefined) return undefined;
      const unreachable = icmp.type === (v4 ? Icmpv4Type.DEST_UNREACHABLE : Icmpv6Type.DEST_UNREACHABLE);
      return { key, kind: unreachable ? Answer.UNREACH : Answer.ICMP_OTHER, from };
    }
    default:
      return undefined;
  }
}
