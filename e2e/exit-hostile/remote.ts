/**
 * The agent's side of the link, written by hand: builds packets with src/helper/engines/packet and reads
 * what the exit sends back. Enough TCP for one echo flow (no options, one segment at a time).
 */
import type { Link } from "../../src/helper/engines/link/link.js";
import {
  buildTcpPacket,
  buildUdpPacket,
  parseAddress,
  parseIp,
  parseTransport,
  TcpFlag,
  type IcmpView,
  type TcpView,
} from "../../src/helper/engines/packet/index.js";
import { Arrivals } from "../netns/arrivals.js";

export interface IcmpError {
  version: 4 | 6;
  type: number;
  code: number;
  /** The destination of the packet it quotes. */
  about: string;
}

export class RemoteDriver {
  private readonly received = new Arrivals<Buffer>();

  /** `died` says why the exit is gone (its process ended), or undefined while it runs. */
  constructor(
    private readonly link: Link,
    private readonly died: () => string | undefined = () => undefined,
  ) {
    link.on("packets", (packets: readonly Buffer[]) => {
      for (const packet of packets) this.received.push(Buffer.from(packet)); // views into a frame
    });
  }

  send(packet: Buffer): void {
    this.link.sendPacket(packet);
  }

  udp(src: string, dst: string, dstPort: number, srcPort = 40_000): void {
    this.send(
      buildUdpPacket({
        src: parseAddress(src),
        dst: parseAddress(dst),
        srcPort,
        dstPort,
        payload: Buffer.from("x\n"),
      }),
    );
  }

  syn(src: string, dst: string, dstPort: number, srcPort: number, seq = 1000): void {
    this.send(
      buildTcpPacket({
        src: parseAddress(src),
        dst: parseAddress(dst),
        srcPort,
        dstPort,
        seq,
        ack: 0,
        flags: TcpFlag.SYN,
        window: 65535,
      }),
    );
  }

  /** Resolves with (and takes out) the first packet `match` accepts, received already or later. */
  next<T>(what: string, match: (packet: Buffer) => T | undefined, timeoutMs = 5_000): Promise<T> {
    return this.received.find(what, match, { timeoutMs, take: true, gone: this.died });
  }

  /** The next ICMP error about a packet to `destination`. */
  icmpErrorAbout(destination: string, timeoutMs?: number): Promise<IcmpError> {
    const wanted = parseAddress(destination);
    return this.next(
      `ICMP error about ${destination}`,
      (packet) => {
        const ip = parseIp(packet);
        const transport = parseTransport(ip);
        if (transport.kind !== "icmp") return undefined;
        const quoted = quotedDestination(ip.version, transport.icmp);
        if (!quoted?.equals(wanted)) return undefined;
        return {
          version: ip.version,
          type: transport.icmp.type,
          code: transport.icmp.code,
          about: destination,
        };
      },
      timeoutMs,
    );
  }

  /** The next TCP segment to the remote's `port` that `match` accepts. */
  tcpTo(port: number, what: string, match: (tcp: TcpView) => boolean): Promise<TcpView> {
    return this.next(what, (packet) => {
      const transport = parseTransport(parseIp(packet));
      return transport.kind === "tcp" && transport.tcp.dstPort === port && match(transport.tcp)
        ? transport.tcp
        : undefined;
    });
  }

  /** Opens a TCP flow through the exit: handshake done, ready for echo exchanges. */
  async openTcp(src: string, dst: string, dstPort: number, srcPort: number): Promise<TcpFlowDriver> {
    const iss = 1000;
    this.syn(src, dst, dstPort, srcPort, iss);
    const synAck = await this.tcpTo(srcPort, "SYN-ACK", (tcp) => tcp.syn && tcp.hasAck);
    const flow = new TcpFlowDriver(this, src, dst, dstPort, srcPort, iss + 1, synAck.seq + 1);
    flow.ackNow();
    return flow;
  }
}

/** The destination of the packet an ICMP error quotes (its IP header follows the 8-byte ICMP header). */
function quotedDestination(version: 4 | 6, icmp: IcmpView): Buffer | undefined {
  const quoted = icmp.buf.subarray(8);
  if (version === 4) return quoted.length >= 20 ? quoted.subarray(16, 20) : undefined;
  return quoted.length >= 40 ? quoted.subarray(24, 40) : undefined;
}

export class TcpFlowDriver {
  constructor(
    private readonly remote: RemoteDriver,
    private readonly src: string,
    private readonly dst: string,
    private readonly dstPort: number,
    private readonly srcPort: number,
    private seq: number,
    private ack: number,
  ) {}

  ackNow(payload?: Buffer): void {
    this.remote.send(
      buildTcpPacket({
        src: parseAddress(this.src),
        dst: parseAddress(this.dst),
        srcPort: this.srcPort,
        dstPort: this.dstPort,
        seq: this.seq,
        ack: this.ack,
        flags: TcpFlag.ACK | (payload ? TcpFlag.PSH : 0),
        window: 65535,
        payload,
      }),
    );
    if (payload) this.seq = (this.seq + payload.length) >>> 0;
  }

  /** Sends `text` and resolves with what comes back until as many bytes have (an echo). */
  async echo(text: string): Promise<string> {
    this.ackNow(Buffer.from(text));
    let answer = "";
    while (answer.length < text.length) {
      const segment = await this.remote.tcpTo(
        this.srcPort,
        `echo of ${JSON.stringify(text)}`,
        (tcp) => tcp.payload.length > 0 || tcp.rst,
      );
      if (segment.rst) throw new Error("the flow was reset");
      if (segment.seq !== this.ack) continue; // a retransmission of what we have
      answer += segment.payload.toString();
      this.ack = (this.ack + segment.payload.length) >>> 0;
      this.ackNow();
    }
    return answer;
  }
}
