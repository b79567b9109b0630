import {
  buildIcmpEchoPacket,
  buildUdpPacket,
  IcmpView,
  Icmpv4Type,
  Icmpv6Type,
  IpProtocol,
  TcpView,
  UdpView,
  type IpView,
} from "../packet/index.js";
import type { PacketOutput } from "./packet-output.js";
import { portUnreachable } from "./refusal.js";
import { resetFor, type TcpForwarder } from "./tcp/forwarder.js";
import { dnsStreamOpener, type DnsStreamServer } from "./dns-stream-peer.js";
import type { PeerOpener } from "./tcp/flow-peer.js";

/** The DNS service behind the stub address: the DNS engine, seen from the NAT engine. */
export interface StubResolver {
  /** Answers one query received over UDP; null drops it. */
  answerUdp(query: Buffer): Promise<Buffer | null>;
  /** DNS over TCP: serves the stream of one flow to the stub's port 53, in this process. */
  readonly tcp: { serve: DnsStreamServer; idleTimeoutMs: number };
}

const DNS_PORT = 53;

/**
 * The stub address on the link subnet, where the remote's resolver points. Nothing is dialled:
 * UDP queries go to the DNS engine, TCP flows to a DNS stream in this process, echo requests are
 * answered here (so `ping` of the stub works), and anything else is refused like a closed port.
 */
export class DnsStub {
  private readonly addresses: Buffer[];
  private readonly tcpService: PeerOpener;

  constructor(
    addresses: readonly Uint8Array[],
    private readonly resolver: StubResolver,
    private readonly output: PacketOutput,
    private readonly tcp: TcpForwarder,
  ) {
    this.addresses = addresses.map((a) => Buffer.from(a));
    this.tcpService = dnsStreamOpener(resolver.tcp.serve, resolver.tcp.idleTimeoutMs);
  }

  owns(dst: Buffer): boolean {
    for (const address of this.addresses) if (address.equals(dst)) return true;
    return false;
  }

  /** Answers a packet to the stub; false when it is of a protocol the stub does not speak. */
  handle(ip: IpView): boolean {
    switch (ip.protocol) {
      case IpProtocol.UDP: {
        const udp = UdpView.parse(ip.payload);
        if (udp.dstPort !== DNS_PORT) {
          this.output.send(portUnreachable(ip));
          return true;
        }
        // The query and addresses are views into the link's frame: copy before going async.
        const reply = {
          src: Buffer.from(ip.dst),
          dst: Buffer.from(ip.src),
          srcPort: DNS_PORT,
          dstPort: udp.srcPort,
        };
        void this.resolver.answerUdp(Buffer.from(udp.payload)).then(
          (answer) => {
            if (answer) this.output.send(buildUdpPacket({ ...reply, payload: answer }));
          },
          () => undefined, // the engine answers SERVFAIL itself; a failure here is a dropped query
        );
        return true;
      }
      case IpProtocol.TCP: {
        const tcp = TcpView.parse(ip.payload);
        if (tcp.dstPort === DNS_PORT) this.tcp.handle(ip, tcp, this.tcpService);
        else if (!tcp.rst) this.output.send(resetFor(ip, tcp));
        return true;
      }
      case IpProtocol.ICMP:
      case IpProtocol.ICMPV6: {
        if ((ip.protocol === IpProtocol.ICMP) !== (ip.version === 4)) return false; // ICMP of the other family
        const icmp = IcmpView.parse(ip.payload, ip.version);
        const request = ip.version === 4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST;
        if (icmp.type === request && icmp.verifyChecksum(ip)) {
          this.output.send(
            buildIcmpEchoPacket({
              src: ip.dst,
              dst: ip.src,
              kind: "reply",
              identifier: icmp.identifier,
              sequence: icmp.sequence,
              payload: icmp.payload,
            }),
          );
        }
        return true;
      }
      default:
        return false;
    }
  }
}
