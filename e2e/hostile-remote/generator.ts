/**
 * Valid IPv4/IPv6 packets with hostile values, each with what the exit owes it. TCP with every
 * flag combination, options (hostile MSS and window scale included) and windows; UDP; ICMP echo,
 * and ICMP errors and other types from the remote; IP protocols the exit does not speak; some IPv4
 * headers with options, and IPv6 extension headers in front of the upper layer. Deterministic for
 * a seed.
 */
import {
  buildIcmpEchoPacket,
  buildIcmpPacket,
  buildTcpPacket,
  buildUdpPacket,
  finishChecksum,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6ParameterProblemCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  IpProtocol,
  parseAddress,
  sumWords,
  TcpFlag,
  type TcpOptions,
  writeIpHeader,
} from "../../src/helper/engines/packet/index.js";
import { randomChain, withExtensionHeaders } from "./extension-headers.js";
import { Answer, packetKey, probeKey, type IcmpErrorShape, type Probe } from "./probe.js";
import type { Prng } from "./prng.js";
import {
  HOSTILE_PORTS,
  HOSTILE_SOURCES,
  OPEN_TCP_PORTS,
  TARGETS,
  UDP_ECHO_PORT,
  type Target,
} from "./targets.js";

/** UDP ports of S that really get datagrams: its echo, closed ones, the top one. */
const UDP_POOL_PORTS = [UDP_ECHO_PORT, UDP_ECHO_PORT, 9, 65535];
/**
 * Echo identifiers per source: each (source, destination, identifier) is an echo flow that idles
 * for 30 s; 15 dialled destinations x 48 stay well under the exit's 1,024 echo flows.
 */
const ECHO_IDENTIFIERS = 48;
/** Most probes per batch that open a flow or a connect; the rest are answered without one. */
const DIALS_PER_BATCH = 12;
/** How long an answer may take: a connect to a host that never answers ARP fails after ~3 s. */
const ANSWER_MS = 8_000;
/** The DNS engine tries its resolvers for 4 s, then this computer's own lookup. */
const DNS_ANSWER_MS = 15_000;
/** A SYN that needs a connect: sent up to four more times (see Probe.retransmit). */
const SYN_ANSWER_MS = 20_000;

const byClass = (c: Target["class"]): Target[] => TARGETS.filter((t) => t.class === c);
const REFUSED = byClass("refused");
const DIALLED = [...byClass("stub"), ...byClass("open"), ...byClass("fails"), ...byClass("silent-host")];

interface Parsed {
  target: Target;
  dst: Buffer;
  v6: boolean;
}

const parsedTargets = new Map<Target, Parsed>(
  TARGETS.map((target) => {
    const dst = Buffer.from(parseAddress(target.address));
    return [target, { target, dst, v6: dst.length === 16 }];
  }),
);
const hostileSources = HOSTILE_SOURCES.map((a) => Buffer.from(parseAddress(a)));

function parsed(target: Target): Parsed {
  const p = parsedTargets.get(target);
  if (!p) throw new Error(`unknown target ${target.address}`);
  return p;
}

/** A source address in one of the remote's pools (disjoint, so flows never share a tuple). */
function poolAddress(v6: boolean, pool: number, host: number): Buffer {
  if (!v6) return Buffer.from([198, 18, pool, host & 0xff]);
  const out = Buffer.from(parseAddress(`2001:db8:1:${pool}::`));
  out.writeUInt16BE(host & 0xffff, 14);
  return out;
}

/** The same IPv4 packet with a header of 24 bytes: options (NOP, NOP, NOP, end) are valid too. */
function withIpv4Options(packet: Buffer): Buffer {
  const out = Buffer.concat([packet.subarray(0, 20), Buffer.from([1, 1, 1, 0]), packet.subarray(20)]);
  out[0] = 0x46;
  out.writeUInt16BE(out.length, 2);
  out.writeUInt16BE(0, 10);
  out.writeUInt16BE(finishChecksum(sumWords(out, 0, 24)), 10);
  return out;
}

/** An IP packet of any protocol: an IP header, then `payload`. */
function rawPacket(src: Buffer, dst: Buffer, protocol: number, payload: Buffer): Buffer {
  const header = src.length === 4 ? 20 : 40;
  const packet = Buffer.alloc(header + payload.length);
  writeIpHeader(packet, 0, { src, dst }, protocol, payload.length);
  packet.set(payload, header);
  return packet;
}

/**
 * Protocols the exit does not speak, named and random: GRE, SCTP, ESP, IP-in-IP, IPv6-in-IP,
 * IGMP, OSPF, PIM, VRRP, the reserved 255, and ICMP of the other family. IPv6's No Next Header
 * (59) is asked for on its own.
 */
const OTHER_PROTOCOLS = [47, 132, 50, 4, 41, 2, 89, 103, 112, 255];
const GRE = 47;
const SCTP = 132;
/** What Ipv6View walks past as an extension header: never an upper layer. */
const IPV6_EXTENSION_HEADERS = new Set([0, 43, 44, 51, 60, 135, 139, 140]);
/** Source addresses that are no single host: the exit drops what they send, unanswered. */
const NO_HOST_SOURCES = ["0.0.0.0", "255.255.255.255", "224.0.0.1", "240.0.0.1", "::", "ff02::1"].map((a) =>
  Buffer.from(parseAddress(a)),
);
const isNoHost = (address: Buffer): boolean => NO_HOST_SOURCES.some((a) => a.equals(address));

/** 198.18.6.0/24 and 198.18.7.0/24 are the floods' (flood.ts). */
const Pool = { DIAL: 1, STRAY: 2, REFUSED: 3, UDP: 4, ECHO: 5, OTHER: 8 } as const;

export class ProbeGenerator {
  /** Probes generated so far whose tuple must be new (flows). */
  private dials = 0;
  private dialsInBatch = 0;
  /** The tag of the next packet of another protocol: the key its ICMP answer is matched by. */
  private tags = 0;

  constructor(private readonly prng: Prng) {}

  /** `count` probes, of which at most DIALS_PER_BATCH open something. */
  batch(count: number): Probe[] {
    this.dialsInBatch = 0;
    const out: Probe[] = [];
    for (let i = 0; i < count; i++) out.push(this.next());
    return out;
  }

  private next(): Probe {
    const r = this.prng.below(100);
    if (r < 5) return this.otherProtocol();
    const probe = r < 48 ? this.tcp() : r < 77 ? this.udp() : this.icmp();
    if (probe.packet[0] === 0x45 && this.prng.chance(0.1)) probe.packet = withIpv4Options(probe.packet);
    if (probe.packet[0]! >> 4 === 6 && this.prng.chance(0.1)) this.behindExtensionHeaders(probe);
    return probe;
  }

  /** The same IPv6 probe with extension headers before its upper layer: handled as without them. */
  private behindExtensionHeaders(probe: Probe): void {
    const wrapped = withExtensionHeaders(probe.packet, randomChain(this.prng), this.prng);
    const key = packetKey(wrapped.packet);
    if (probe.key !== null && key !== probe.key)
      throw new Error(`a probe's key ${probe.key} changed behind extension headers: ${key}`);
    probe.packet = wrapped.packet;
    probe.label = probe.label.replace(/ to /, ` behind ${wrapped.names} to `);
  }

  /** A protocol number the exit does not speak, for IPv4 or IPv6 (never an extension header). */
  private otherProtocolNumber(v6: boolean): number {
    const r = this.prng.below(100);
    if (r < 25) return GRE;
    if (r < 45) return SCTP;
    if (r < 55) return v6 ? IpProtocol.ICMP : IpProtocol.ICMPV6;
    if (r < 75) return this.prng.pick(OTHER_PROTOCOLS);
    for (;;) {
      const n = this.prng.below(256);
      const spoken =
        n === IpProtocol.TCP || n === IpProtocol.UDP || n === (v6 ? IpProtocol.ICMPV6 : IpProtocol.ICMP);
      if (!spoken && !(v6 && (IPV6_EXTENSION_HEADERS.has(n) || n === IpProtocol.IPV6_NO_NEXT_HEADER)))
        return n;
    }
  }

  /**
   * A packet of a protocol the exit does not speak, to any destination: answered as a host
   * answers it (ICMP protocol unreachable; ICMPv6 parameter problem pointing at the Next Header
   * that names it), administratively prohibited where the policy refuses the destination; never
   * answered when IPv6 says No Next Header, nor to a source that is no single host.
   */
  private otherProtocol(): Probe {
    const { target, dst, v6 } = parsed(this.prng.pick(TARGETS));
    const refused = target.class === "refused";
    let src: Buffer;
    let required = true;
    if (refused) {
      const from = this.refusedSource(v6);
      src = from.src;
      required = !from.hostile;
    } else if (this.prng.chance(0.05)) {
      src = this.prng.pick(NO_HOST_SOURCES.filter((a) => (a.length === 16) === v6));
    } else src = poolAddress(v6, Pool.OTHER, 1 + this.prng.below(250));
    const noNextHeader = v6 && this.prng.chance(0.15);
    const protocol = noNextHeader ? IpProtocol.IPV6_NO_NEXT_HEADER : this.otherProtocolNumber(v6);
    const tag = this.tags++;
    const payload = Buffer.concat([Buffer.alloc(4), this.payload()]);
    payload.writeUInt32BE(tag, 0);
    let packet = rawPacket(src, dst, protocol, payload);
    let nextHeaderOffset = 6;
    let behind = "";
    if (v6 && this.prng.chance(0.3)) {
      const wrapped = withExtensionHeaders(packet, randomChain(this.prng), this.prng);
      ({ packet, nextHeaderOffset } = wrapped);
      behind = ` behind ${wrapped.names}`;
    }
    const silent = noNextHeader || isNoHost(src);
    let accept: number;
    let icmpError: IcmpErrorShape;
    if (refused) {
      accept = Answer.UNREACH;
      icmpError = v6
        ? { type: Icmpv6Type.DEST_UNREACHABLE, code: Icmpv6UnreachableCode.ADMIN_PROHIBITED, pointer: 0 }
        : { type: Icmpv4Type.DEST_UNREACHABLE, code: Icmpv4UnreachableCode.ADMIN_PROHIBITED, pointer: 0 };
    } else if (v6) {
      accept = Answer.PARAM_PROBLEM;
      icmpError = {
        type: Icmpv6Type.PARAMETER_PROBLEM,
        code: Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER,
        pointer: nextHeaderOffset,
      };
    } else {
      accept = Answer.PROTOCOL_UNREACH;
      icmpError = { type: Icmpv4Type.DEST_UNREACHABLE, code: Icmpv4UnreachableCode.PROTOCOL, pointer: 0 };
    }
    const key = probeKey(`ip${protocol}`, src, dst, tag, 0);
    if (packetKey(packet) !== key) throw new Error(`the key of ${packet.toString("hex")} is not ${key}`);
    return {
      packet,
      key,
      accept: silent ? 0 : accept,
      required: required && !silent,
      dials: false,
      retransmit: false,
      deadlineMs: ANSWER_MS,
      icmpError,
      label: `IP protocol ${protocol}${behind} to ${target.what} ${target.address}${silent && !noNextHeader ? " from no single host" : ""}`,
    };
  }

  /** A destination: a dialled one while this batch has room, a refused one otherwise. */
  private target(): Parsed {
    if (this.dialsInBatch < DIALS_PER_BATCH && this.prng.chance(0.45)) {
      this.dialsInBatch++;
      return parsed(this.prng.pick(DIALLED));
    }
    return parsed(this.prng.pick(REFUSED));
  }

  /** A fresh (source, source port) for a probe that opens a flow. */
  private dialSource(v6: boolean): { src: Buffer; port: number } {
    const n = this.dials++;
    return { src: poolAddress(v6, Pool.DIAL, 1 + (Math.floor(n / 64_000) % 250)), port: 1024 + (n % 64_000) };
  }

  /**
   * A source for a packet to a refused destination; a hostile one may be answered or not, except
   * one that is no single host (`noHost`): the exit drops what it sends, unanswered.
   */
  private refusedSource(v6: boolean): { src: Buffer; port: number; hostile: boolean; noHost: boolean } {
    if (this.prng.chance(0.1)) {
      const family = hostileSources.filter((a) => (a.length === 16) === v6);
      const src = this.prng.pick(family);
      return { src, port: this.port(), hostile: true, noHost: isNoHost(src) };
    }
    return {
      src: poolAddress(v6, Pool.REFUSED, 1 + this.prng.below(250)),
      port: this.port(),
      hostile: false,
      noHost: false,
    };
  }

  /**
   * UDP flows that really open: from 128 tuples per family to a few ports, so that they stay
   * under the exit's UDP flow limit for the whole run (each idles for a minute).
   */
  private udpPoolSource(v6: boolean): { src: Buffer; port: number } {
    return { src: poolAddress(v6, Pool.UDP, 1 + this.prng.below(4)), port: 2000 + this.prng.below(32) };
  }

  /** A well-formed query (RFC 1035 §4.1) for a name under .test, of some type, maybe EDNS. */
  private dnsQuery(): Buffer {
    const labels = [
      this.prng.pick(["www", "db", "x", "_sip._tcp", "a".repeat(63)]),
      this.prng.pick(["corp", "lan"]),
      "test",
    ];
    const name = Buffer.concat([
      ...labels
        .flatMap((label) => label.split("."))
        .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
      Buffer.from([0]),
    ]);
    const edns = this.prng.chance(0.3);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(this.prng.below(0x10000), 0);
    header.writeUInt16BE(0x0100, 2); // a standard query, recursion desired
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(edns ? 1 : 0, 10);
    const question = Buffer.alloc(4);
    question.writeUInt16BE(this.prng.pick([1, 28, 16, 15, 33, 255, 65, 12345]), 0); // A AAAA TXT MX SRV ANY HTTPS ?
    question.writeUInt16BE(1, 2);
    // OPT: root name, type 41, payload size, no extended flags, no options.
    const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    return Buffer.concat([header, name, question, ...(edns ? [opt] : [])]);
  }

  private port(): number {
    return this.prng.chance(0.5) ? this.prng.pick(HOSTILE_PORTS) : this.prng.below(0x10000);
  }

  private payload(): Buffer {
    const big = this.prng.chance(0.02);
    return this.prng.bytes(big ? this.prng.below(1400) : this.prng.below(64));
  }

  private tcpOptions(): TcpOptions | undefined {
    if (this.prng.chance(0.3)) return undefined;
    const options: TcpOptions = {};
    if (this.prng.chance(0.7))
      options.mss = this.prng.chance(0.3) ? this.prng.pick([0, 1, 65535]) : this.prng.below(0x10000);
    if (this.prng.chance(0.5))
      options.windowScale = this.prng.chance(0.2) ? this.prng.pick([15, 255]) : this.prng.below(15);
    if (this.prng.chance(0.5)) options.sackPermitted = true;
    if (this.prng.chance(0.4)) options.timestamp = { value: this.prng.u32(), echo: this.prng.u32() };
    if (this.prng.chance(0.1)) options.sackBlocks = [{ left: this.prng.u32(), right: this.prng.u32() }];
    return options;
  }

  private tcp(): Probe {
    const kind = this.prng.below(100);
    const extra = this.prng.u32() & (TcpFlag.FIN | TcpFlag.PSH | TcpFlag.URG | TcpFlag.ECE | TcpFlag.CWR);
    if (kind < 40) return this.tcpSyn(TcpFlag.SYN | extra);
    // A segment of no flow: from the stray pool, so no SYN of ours ever made its tuple a flow.
    const rst = kind >= 85;
    let flags = this.prng.u32() & 0xff;
    if (rst) flags |= TcpFlag.RST;
    else {
      flags &= ~TcpFlag.RST;
      if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) flags |= TcpFlag.ACK;
    }
    const { target, dst, v6 } = this.prng.chance(0.5)
      ? parsed(this.prng.pick(TARGETS))
      : parsed(this.prng.pick(REFUSED));
    const src = poolAddress(v6, Pool.STRAY, 1 + this.prng.below(250));
    const spec = { src, dst, srcPort: this.port(), dstPort: this.port() };
    const packet = buildTcpPacket({
      ...spec,
      seq: this.prng.u32(),
      ack: this.prng.u32(),
      flags,
      window: this.prng.below(0x10000),
      urgentPointer: this.prng.below(0x10000),
      options: this.tcpOptions(),
      payload: this.payload(),
    });
    return {
      packet,
      key: probeKey("tcp", spec.src, spec.dst, spec.srcPort, spec.dstPort),
      // RFC 9293: a segment of no flow is answered with RST, and a RST is never answered.
      accept: rst ? 0 : Answer.RST,
      required: !rst,
      dials: false,
      retransmit: false,
      deadlineMs: ANSWER_MS,
      label: `TCP ${rst ? "RST" : "segment"} of no flow to ${target.what}`,
    };
  }

  private tcpSyn(flags: number): Probe {
    const { target, dst, v6 } = this.target();
    let src: Buffer;
    let srcPort: number;
    let required = true;
    let dstPort: number;
    let accept: number;
    let dials = true;
    switch (target.class) {
      case "refused": {
        const from = this.refusedSource(v6);
        ({ src, port: srcPort } = from);
        required = !from.hostile;
        dstPort = this.port();
        accept = from.noHost ? 0 : Answer.UNREACH | Answer.RST;
        dials = false;
        break;
      }
      case "stub":
        ({ src, port: srcPort } = this.dialSource(v6));
        dstPort = this.prng.chance(0.5) ? 53 : this.port();
        accept = dstPort === 53 ? Answer.SYN_ACK | Answer.RST : Answer.RST;
        dials = dstPort === 53;
        break;
      case "open":
        ({ src, port: srcPort } = this.dialSource(v6));
        dstPort = this.prng.chance(0.6) ? this.prng.pick(OPEN_TCP_PORTS) : this.port();
        accept = OPEN_TCP_PORTS.includes(dstPort) ? Answer.SYN_ACK | Answer.RST : Answer.RST | Answer.UNREACH;
        break;
      case "fails":
      case "silent-host":
        ({ src, port: srcPort } = this.dialSource(v6));
        dstPort = this.port();
        accept = Answer.UNREACH | Answer.RST;
        break;
    }
    const packet = buildTcpPacket({
      src,
      dst,
      srcPort,
      dstPort,
      seq: this.prng.u32(),
      ack: this.prng.chance(0.2) ? this.prng.u32() : 0,
      flags,
      window: this.prng.below(0x10000),
      options: this.tcpOptions(),
      payload: this.prng.chance(0.1) ? this.payload() : undefined,
    });
    return {
      packet,
      key: probeKey("tcp", src, dst, srcPort, dstPort),
      accept,
      required,
      dials,
      retransmit: dials,
      deadlineMs: dials ? SYN_ANSWER_MS : ANSWER_MS,
      label: `TCP SYN to ${target.what} ${target.address} port ${dstPort}`,
    };
  }

  private udp(): Probe {
    const { target, dst, v6 } = this.target();

    let src: Buffer;
    let srcPort: number;
    let dstPort: number;
    let required = true;
    let accept: number = Answer.UNREACH;
    let dials = false;
    let dnsQuery: Buffer | undefined;
    switch (target.class) {
      case "refused": {
        const from = this.refusedSource(v6);
        ({ src, port: srcPort } = from);
        required = !from.hostile;
        if (from.noHost) accept = 0;
        dstPort = this.port();
        break;
      }
      case "stub":
        ({ src, port: srcPort } = this.udpPoolSource(v6));
        dstPort = this.prng.chance(0.5) ? 53 : this.port();
        if (dstPort === 53) {
          // The DNS engine answers every query (SERVFAIL at worst); random bytes may be dropped.
          dnsQuery = this.prng.chance(0.7) ? this.dnsQuery() : undefined;
          required = dnsQuery !== undefined;
          accept = Answer.UDP;
        }
        break;
      case "open":
        dstPort = this.prng.chance(0.3) ? 0 : this.prng.pick(UDP_POOL_PORTS);
        if (dstPort === 0) {
          // Port 0 cannot be sent to: refused at once (issue 11, finding 1a).
          ({ src, port: srcPort } = this.dialSource(v6));
          dials = true;
        } else {
          ({ src, port: srcPort } = this.udpPoolSource(v6));
          required = false; // S's kernel rate-limits its port unreachables
          accept = Answer.UDP | Answer.UNREACH;
        }
        break;
      case "fails":
        // The connect fails: the flow ends with an ICMP error (issue 11, finding 1b).
        ({ src, port: srcPort } = this.dialSource(v6));
        dstPort = this.port() || 9;
        dials = true;
        break;
      case "silent-host":
        ({ src, port: srcPort } = this.udpPoolSource(v6));
        dstPort = 9;
        required = false;
        accept = Answer.UNREACH;
        break;
    }
    const packet = buildUdpPacket({ src, dst, srcPort, dstPort, payload: dnsQuery ?? this.payload() });
    return {
      packet,
      key: probeKey("udp", src, dst, srcPort, dstPort),
      accept,
      required,
      dials,
      retransmit: false,
      deadlineMs: dnsQuery ? DNS_ANSWER_MS : ANSWER_MS,
      label: `UDP ${dnsQuery ? "DNS query" : "datagram"} to ${target.what} ${target.address} port ${dstPort}`,
    };
  }

  private icmp(): Probe {
    if (this.prng.chance(0.25)) return this.icmpOther();
    const { target, dst, v6 } = this.target();
    let src: Buffer;
    let required = true;
    let accept: number = Answer.UNREACH;
    let dials = false;
    const identifier = this.prng.below(ECHO_IDENTIFIERS);
    const sequence = this.prng.below(0x10000);
    switch (target.class) {
      case "refused": {
        const from = this.refusedSource(v6);
        src = from.src;
        required = !from.hostile;
        if (from.noHost) accept = 0;
        break;
      }
      case "stub":
        src = poolAddress(v6, Pool.ECHO, 1);
        accept = Answer.ECHO_REPLY;
        break;
      case "open":
        src = poolAddress(v6, Pool.ECHO, 1);
        // An IPv4-mapped address means nothing to ICMPv6: unreachable is an answer too.
        accept = target.address.startsWith("::ffff:")
          ? Answer.ECHO_REPLY | Answer.UNREACH
          : Answer.ECHO_REPLY;
        dials = true;
        break;
      case "fails":
        src = poolAddress(v6, Pool.ECHO, 1);
        dials = true;
        break;
      case "silent-host":
        src = poolAddress(v6, Pool.ECHO, 1);
        required = false; // lost, as to any host that does not answer
        break;
    }
    const packet = buildIcmpEchoPacket({
      src,
      dst,
      kind: "request",
      identifier,
      sequence,
      payload: this.payload(),
    });
    return {
      packet,
      key: probeKey("echo", src, dst, identifier, sequence),
      accept,
      required,
      dials,
      retransmit: false,
      deadlineMs: ANSWER_MS,
      label: `ICMP echo request to ${target.what} ${target.address}`,
    };
  }

  /**
   * ICMP errors, echo replies and other types from the remote: never answered. An answer to an
   * error (which could only be an error about an error, RFC 1122 §3.2.2, RFC 4443 §2.4(e)) is
   * matched by the error's own header and fails the run.
   */
  private icmpOther(): Probe {
    const { target, dst, v6 } = parsed(this.prng.pick(TARGETS));
    const src = poolAddress(v6, Pool.REFUSED, 1 + this.prng.below(250));
    let packet: Buffer;
    const choice = this.prng.below(3);
    if (choice === 0) {
      // "Your packet could not be delivered", about a made-up datagram the target sent us.
      const quoted = buildUdpPacket({ src: dst, dst: src, srcPort: this.port(), dstPort: this.port() });
      packet = buildIcmpPacket({
        src,
        dst,
        type: this.prng.pick(v6 ? [1, 2, 3, 4] : [3, 4, 5, 11, 12]),
        code: this.prng.below(16),
        restOfHeader: this.prng.u32(),
        payload: quoted,
      });
    } else if (choice === 1) {
      packet = buildIcmpEchoPacket({
        src,
        dst,
        kind: "reply",
        identifier: this.prng.below(0x10000),
        sequence: this.prng.below(0x10000),
        payload: this.payload(),
      });
    } else {
      const type = this.prng.below(256);
      const isEcho = type === (v6 ? Icmpv6Type.ECHO_REQUEST : Icmpv4Type.ECHO_REQUEST);
      packet = buildIcmpPacket({
        src,
        dst,
        type: isEcho ? type + 1 : type,
        code: this.prng.below(256),
        restOfHeader: this.prng.u32(),
        payload: this.payload(),
      });
    }
    return {
      packet,
      key: choice === 0 ? (packetKey(packet) ?? null) : null,
      accept: 0,
      required: false,
      dials: false,
      retransmit: false,
      deadlineMs: ANSWER_MS,
      label: `ICMP (not an echo request) to ${target.what} ${target.address}`,
    };
  }
}
