/**
 * UDP ASSOCIATE (RFC 1928 section 7) for the proxy entrance: each association gets a UDP socket
 * on loopback for its client and a source port of its own on the entrance's link address; the
 * client's datagrams leave as IP/UDP packets through the link's PACKETS path (as the TUN
 * entrance's would), and packets coming back to that port are relayed to the client with the
 * SOCKS UDP header naming their source.
 *
 * Names in UDP requests are resolved without streams: an A (then AAAA) query to the link's DNS
 * stub, over the same packet path, so they go through the exit's DNS engine and its table.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { isIP, type Socket } from "node:net";
import { decode, encode } from "dns-packet";
import { formatAddress, parseAddress } from "../packet/address.js";
import { buildUdpPacket } from "../packet/build.js";
import { parseIp, parseTransport } from "../packet/ip.js";
import type { PacketPort } from "../port/packet-port.js";
import { encodeUdpHeader, parseUdpHeader } from "./socks5-wire.js";

export interface UdpRelayOptions {
  port: PacketPort;
  /** The entrance's link addresses (from CONFIG): the source of what the relay sends. */
  sourceV4: string | null;
  sourceV6: string | null;
  /** The exit's DNS stub address; null: names in UDP requests are dropped. */
  stub: string | null;
  resolveTimeoutMs?: number;
}

export interface UdpAssociation {
  /** Where the client sends its datagrams. */
  readonly bound: { address: string; port: number };
  close(): void;
}

export interface UdpRelayCounters {
  sent: number;
  received: number;
  /** From an address other than the control connection's, malformed, fragmented or unroutable. */
  dropped: number;
  /** Packets from the link for no live association. */
  unmatched: number;
}

const FIRST_PORT = 49152;
const PORTS = 65536 - FIRST_PORT;

interface Association {
  socket: UdpSocket;
  clientAddress: string;
  clientPort: number | null;
}

export class UdpRelay {
  readonly counters: UdpRelayCounters = { sent: 0, received: 0, dropped: 0, unmatched: 0 };
  private readonly byPort = new Map<number, Association>();
  private readonly pendingQueries = new Map<number, (answer: string | null) => void>();
  private readonly sources: { v4: Buffer | null; v6: Buffer | null };
  private nextPort = FIRST_PORT;
  private resolverPort: number | null = null;

  constructor(private readonly options: UdpRelayOptions) {
    this.sources = {
      v4: options.sourceV4 === null ? null : parseAddress(options.sourceV4),
      v6: options.sourceV6 === null ? null : parseAddress(options.sourceV6),
    };
  }

  /** Live associations. */
  get associations(): number {
    return this.byPort.size;
  }

  /**
   * An association for the client behind `control`, its TCP control connection. `clientPort` is
   * the port the client said it sends from (the request's DST.PORT); 0: the first datagram's.
   */
  async associate(control: Socket, clientPort = 0): Promise<UdpAssociation> {
    const local = control.localAddress ?? "127.0.0.1";
    const socket = createSocket(isIP(local) === 6 ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: local, port: 0 }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    socket.on("error", () => undefined);
    const linkPort = this.allocatePort();
    const association: Association = {
      socket,
      clientAddress: control.remoteAddress ?? local,
      clientPort: clientPort === 0 ? null : clientPort,
    };
    this.byPort.set(linkPort, association);
    socket.on("message", (datagram, from) => {
      if (from.address !== association.clientAddress) return void this.counters.dropped++;
      // The first datagram fixes the client's port: nobody else on the host may use this one.
      if (association.clientPort !== null && from.port !== association.clientPort)
        return void this.counters.dropped++;
      association.clientPort = from.port;
      void this.forward(linkPort, datagram);
    });
    return {
      bound: { address: local, port: socket.address().port },
      close: () => {
        if (this.byPort.get(linkPort) !== association) return;
        this.byPort.delete(linkPort);
        socket.close();
      },
    };
  }

  /** An inbound IP packet from the link; true when it belonged to the relay. */
  handlePacket(packet: Buffer): boolean {
    let ip;
    let transport;
    try {
      ip = parseIp(packet);
      transport = parseTransport(ip);
    } catch {
      return false;
    }
    if (transport.kind !== "udp") return false;
    const source = ip.version === 4 ? this.sources.v4 : this.sources.v6;
    if (source === null || !source.equals(ip.dst)) return false;
    const { udp } = transport;
    if (udp.dstPort === this.resolverPort) {
      this.answer(udp.payload);
      return true;
    }
    const association = this.byPort.get(udp.dstPort);
    if (association === undefined || association.clientPort === null) {
      this.counters.unmatched++;
      return true;
    }
    this.counters.received++;
    const header = encodeUdpHeader({ address: formatAddress(ip.src), port: udp.srcPort });
    association.socket.send(
      Buffer.concat([header, udp.payload]),
      association.clientPort,
      association.clientAddress,
    );
    return true;
  }

  close(): void {
    for (const association of this.byPort.values()) association.socket.close();
    this.byPort.clear();
    for (const settle of this.pendingQueries.values()) settle(null);
  }

  private async forward(linkPort: number, datagram: Buffer): Promise<void> {
    const header = parseUdpHeader(datagram);
    if (typeof header === "string") return void this.counters.dropped++;
    const { target } = header;
    const address = target.kind === "address" ? target.address : await this.resolve(target.name);
    const dst = address === null ? null : parseAddress(address);
    const src = dst === null ? null : dst.length === 4 ? this.sources.v4 : this.sources.v6;
    if (dst === null || src === null || !this.byPort.has(linkPort)) return void this.counters.dropped++;
    this.counters.sent++;
    this.options.port.send(
      buildUdpPacket({
        src,
        dst,
        srcPort: linkPort,
        dstPort: target.port,
        payload: datagram.subarray(header.dataOffset),
      }),
    );
  }

  /** The first A (else AAAA) answer from the DNS stub, or null. */
  private async resolve(name: string): Promise<string | null> {
    if (this.options.stub === null) return null;
    for (const type of this.sources.v4 ? ["A", "AAAA"] : ["AAAA"]) {
      const answer = await this.query(name, type);
      if (answer !== null) return answer;
    }
    return null;
  }

  private query(name: string, type: string): Promise<string | null> {
    const stub = parseAddress(this.options.stub!);
    const src = stub.length === 4 ? this.sources.v4 : this.sources.v6;
    if (src === null) return Promise.resolve(null);
    this.resolverPort ??= this.allocatePort();
    let id = Math.floor(Math.random() * 0x10000);
    while (this.pendingQueries.has(id)) id = (id + 1) & 0xffff;
    const query = encode({ type: "query", id, flags: 0x0100, questions: [{ name, type }] });
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), this.options.resolveTimeoutMs ?? 5_000);
      const settle = (answer: string | null): void => {
        clearTimeout(timer);
        this.pendingQueries.delete(id);
        resolve(answer);
      };
      this.pendingQueries.set(id, settle);
      this.options.port.send(
        buildUdpPacket({ src, dst: stub, srcPort: this.resolverPort!, dstPort: 53, payload: query }),
      );
    });
  }

  private answer(payload: Buffer): void {
    let message;
    try {
      message = decode(payload);
    } catch {
      return void this.counters.dropped++;
    }
    const settle = this.pendingQueries.get(message.id);
    if (settle === undefined) return;
    const record = message.answers.find((answer) => answer.type === "A" || answer.type === "AAAA");
    const data = record && "data" in record ? record.data : null;
    settle(typeof data === "string" && isIP(data) !== 0 ? data : null);
  }

  /** The next source port no live association (nor the resolver) uses. */
  private allocatePort(): number {
    for (let tries = 0; tries < PORTS; tries++) {
      const port = this.nextPort;
      this.nextPort = port === 65535 ? FIRST_PORT : port + 1;
      if (!this.byPort.has(port) && port !== this.resolverPort) return port;
    }
    throw new Error("every UDP source port of the proxy entrance is in use");
  }
}
