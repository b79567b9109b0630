import {
  IcmpView,
  IpProtocol,
  PacketError,
  parseIp,
  TcpView,
  UdpView,
  type IpView,
} from "../packet/index.js";
import { DnsStub, type StubResolver } from "./dns-stub.js";
import type { EgressPolicy } from "./egress-policy.js";
import { FlowTable } from "./flow-table.js";
import type { IcmpForwarder } from "./icmp-forwarder.js";
import { MemoryBudget } from "./memory-budget.js";
import { newNatCounters, type NatCounters } from "./nat-counters.js";
import type { PacketOutput } from "./packet-output.js";
import { adminProhibited, isSingleHostSource, protocolUnreachable } from "./refusal.js";
import { DEFAULT_TCP_LIMITS, type TcpLimits } from "./tcp/limits.js";
import { TcpForwarder } from "./tcp/forwarder.js";
import { DEFAULT_UDP_LIMITS, UdpForwarder, type UdpLimits } from "./udp-forwarder.js";
import type { Link } from "../link/link.js";
import type { NameResolver } from "../dns/name-lookup.js";
import type { AddressNameSource } from "../dns/address-names.js";
import { StreamForwarder, type StreamForwarderCounters } from "./stream-forwarder.js";

export interface NatLimits {
  tcp: TcpLimits;
  udp: UdpLimits;
  maxTcpFlows: number;
  maxDialing: number;
  /** All flows' buffered bytes together. */
  totalBufferBytes: number;
}

export const DEFAULT_NAT_LIMITS: NatLimits = {
  tcp: DEFAULT_TCP_LIMITS,
  udp: DEFAULT_UDP_LIMITS,
  maxTcpFlows: 16_384,
  maxDialing: 512,
  totalBufferBytes: 256 * 1024 * 1024,
};

export interface NatEngineOptions {
  output: PacketOutput;
  policy: EgressPolicy;
  /** The link MTU: the largest packet either side sends. */
  linkMtu: number;
  limits?: NatLimits;
  table?: FlowTable;
  /** The names flows are labelled with (the DNS engine's AddressNames), for the default table. */
  names?: AddressNameSource;
  /** The DNS stub: its addresses on the link subnet and the resolver behind it. */
  dnsStub?: { addresses: readonly Uint8Array[]; resolver: StubResolver };
  /** ICMP echo, where this computer can do it (see icmp-forwarder.ts). */
  icmp?: (context: {
    output: PacketOutput;
    table: FlowTable;
    policy: EgressPolicy;
    counters: NatCounters;
  }) => IcmpForwarder;
  /** Where a contained bug is reported (the first, then at most one line per interval). */
  log?: (line: string) => void;
}

/** Contained bugs are logged at most this often: a remote that triggers one per packet cannot flood the log. */
const INTERNAL_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * The exit side: terminates every flow arriving from the remote on a real socket of this
 * computer. Packets are untrusted: anything malformed is counted and dropped here.
 *
 * Checksums of TCP and UDP are not verified: the link is a reliable, authenticated stream (SSH)
 * and the flows are terminated here, so a corrupt checksum can only come from a buggy sender,
 * and checking costs a pass over every byte.
 */
export class NatEngine {
  readonly table: FlowTable;
  readonly counters: NatCounters = newNatCounters();
  readonly budget: MemoryBudget;
  private readonly tcp: TcpForwarder;
  private readonly udp: UdpForwarder;
  private readonly icmp: IcmpForwarder | undefined;
  private readonly stub: DnsStub | undefined;
  private readonly limits: NatLimits;
  private streamForwarder: StreamForwarder | undefined;
  private readonly output: PacketOutput;
  private readonly policy: EgressPolicy;
  private readonly log: ((line: string) => void) | undefined;
  private lastErrorLoggedAt = -Infinity;
  private errorsSinceLog = 0;

  constructor(options: NatEngineOptions) {
    const limits = options.limits ?? DEFAULT_NAT_LIMITS;
    this.limits = limits;
    this.log = options.log;
    this.output = options.output;
    this.policy = options.policy;
    this.table = options.table ?? new FlowTable({ names: options.names });
    this.budget = new MemoryBudget(limits.totalBufferBytes);
    this.tcp = new TcpForwarder({
      output: options.output,
      table: this.table,
      budget: this.budget,
      policy: options.policy,
      counters: this.counters,
      limits: limits.tcp,
      linkMtu: options.linkMtu,
      maxFlows: limits.maxTcpFlows,
      otherFlows: () => this.streamForwarder?.streamCount ?? 0,
      maxDialing: limits.maxDialing,
      internalError: (error) => this.internalError(error),
    });
    this.udp = new UdpForwarder({
      output: options.output,
      table: this.table,
      policy: options.policy,
      counters: this.counters,
      limits: limits.udp,
      internalError: (error) => this.internalError(error),
    });
    if (options.dnsStub) {
      this.stub = new DnsStub(options.dnsStub.addresses, options.dnsStub.resolver, options.output, this.tcp);
    }
    this.icmp = options.icmp?.({
      output: options.output,
      table: this.table,
      policy: options.policy,
      counters: this.counters,
    });
  }

  /** A batch from the link. Buffers are views into the link's frame, valid during this call. */
  handlePackets(packets: readonly Buffer[]): void {
    for (const packet of packets) this.handlePacket(packet);
    try {
      this.tcp.flush();
    } catch (error) {
      this.internalError(error);
    }
  }

  handlePacket(packet: Buffer): void {
    this.counters.packetsIn++;
    try {
      const ip = parseIp(packet);
      if (ip.version === 4 && !ip.verifyHeaderChecksum()) {
        this.counters.badChecksum++;
        return;
      }
      if (ip.isFragment) {
        this.counters.fragments++;
        return;
      }
      // A packet "from" multicast, broadcast or nobody opens no flow and earns no answer: no
      // host would send it, and an RST or ICMP error to such an address must never be made
      // (RFC 1122 §3.2.2, RFC 4443 §2.4(e)). Checked once here, not in each forwarder.
      if (!isSingleHostSource(ip.src)) {
        this.counters.badSource++;
        return;
      }
      this.dispatch(ip);
    } catch (error) {
      if (error instanceof PacketError) this.counters.malformed++;
      else this.internalError(error);
    }
  }

  /**
   * A bug met while handling a packet or a socket's event. Nothing the remote sends may stop the
   * exit (DESIGN.md, "Processes and trust"): the packet is dropped, every other flow goes on.
   */
  private internalError(error: unknown): void {
    this.counters.internalErrors++;
    this.errorsSinceLog++;
    if (!this.log) return;
    const now = Date.now();
    if (now - this.lastErrorLoggedAt < INTERNAL_ERROR_LOG_INTERVAL_MS) return;
    const more = this.errorsSinceLog > 1 ? ` (${this.errorsSinceLog - 1} more since the last report)` : "";
    this.lastErrorLoggedAt = now;
    this.errorsSinceLog = 0;
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.log(`NAT: a packet's handling failed; dropped it and went on${more}: ${text}`);
  }

  private dispatch(ip: IpView): void {
    if (this.stub?.owns(ip.dst)) {
      if (!this.stub.handle(ip)) this.refuseProtocol(ip);
      return;
    }
    switch (ip.protocol) {
      case IpProtocol.TCP:
        this.tcp.handle(ip, TcpView.parse(ip.payload));
        return;
      case IpProtocol.UDP:
        this.udp.handle(ip, UdpView.parse(ip.payload));
        return;
      case IpProtocol.ICMP:
      case IpProtocol.ICMPV6: {
        if ((ip.protocol === IpProtocol.ICMP) !== (ip.version === 4)) break;
        const icmp = IcmpView.parse(ip.payload, ip.version);
        if (this.icmp) this.icmp.handle(ip, icmp);
        else this.counters.icmpUnsupported++;
        return;
      }
      default:
        break;
    }
    this.refuseProtocol(ip);
  }

  /**
   * A protocol the exit does not speak (GRE, SCTP, ICMPv6 inside IPv4...) is answered as a host
   * answers it, never with silence; a destination the policy refuses, as every refused one is.
   * Not ICMP of the packet's own family, so never an error about an error; and "No Next Header"
   * carries nothing.
   */
  private refuseProtocol(ip: IpView): void {
    this.counters.unsupportedProtocol++;
    if (ip.version === 6 && ip.protocol === IpProtocol.IPV6_NO_NEXT_HEADER) return;
    const allowed = this.stub?.owns(ip.dst) || this.policy.check(ip.dst).allowed;
    this.output.send(allowed ? protocolUnreachable(ip) : adminProhibited(ip));
  }

  /**
   * Takes the link's STREAM_* frames (Capability.Streams): each stream is a TCP flow of
   * `entranceAddress`, under this engine's policy, table and TCP flow limit.
   */
  attachStreams(
    link: Link,
    options: { resolve: NameResolver | undefined; entranceAddress: string },
  ): StreamForwarder {
    this.streamForwarder?.close("replaced");
    this.streamForwarder = new StreamForwarder({
      link,
      table: this.table,
      policy: this.policy,
      resolve: options.resolve,
      entranceAddress: options.entranceAddress,
      connectTimeoutMs: this.limits.tcp.connectTimeoutMs,
      idle: {
        idleTimeoutMs: this.limits.tcp.idleTimeoutMs,
        halfClosedIdleTimeoutMs: this.limits.tcp.halfClosedIdleTimeoutMs,
      },
      flowSlotFree: () => this.tcp.flowSlotFree(),
      budget: this.budget,
      windowBytes: this.limits.tcp.perFlowBufferBytes,
      maxDialing: this.limits.maxDialing,
      internalError: (error) => this.internalError(error),
    });
    return this.streamForwarder;
  }

  /** The link streams' counters (stream-forwarder.ts), or null when no link carries streams. */
  get streamCounters(): Readonly<StreamForwarderCounters> | null {
    return this.streamForwarder?.counters ?? null;
  }

  get flowCounts(): { tcp: number; udp: number; icmp: number } {
    return {
      tcp: this.tcp.flowCount + (this.streamForwarder?.streamCount ?? 0),
      udp: this.udp.flowCount,
      icmp: this.icmp?.flowCount ?? 0,
    };
  }

  /**
   * Ends the flows to a destination `matches` (access to this computer was switched off): TCP
   * flows and streams with RST both ways, UDP and ICMP flows so that their next packet meets the
   * policy again. The DNS stub's own flows stay. Returns how many ended.
   */
  endFlowsTo(matches: (address: Uint8Array) => boolean, reason: string): number {
    return (
      this.tcp.resetFlowsTo(matches, reason) +
      (this.streamForwarder?.resetStreamsTo(matches, reason) ?? 0) +
      this.udp.endFlowsTo(matches, reason) +
      (this.icmp?.endFlowsTo(matches, reason) ?? 0)
    );
  }

  /** The link is gone: every flow ends (TCP with RST both ways). */
  close(reason: string): void {
    this.tcp.close(reason);
    this.streamForwarder?.close(reason);
    this.udp.close(reason);
    this.icmp?.close(reason);
    this.table.stop();
  }
}
