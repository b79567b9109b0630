/**
 * The resolver this computer uses while `--remote-dns-domain` runs on a Linux without
 * systemd-resolved (the nearest equivalent of its per-link routing domains): a DNS stub on our
 * TUN's own address, which resolv.conf then names alone. Names under the domains go to the remote
 * exit's resolver (through the TUN); every other name goes to the servers resolv.conf named
 * before, in order, so nothing else changes. UDP and TCP (RFC 7766 framing, for truncated
 * answers), one exchange per query, as a stub resolver does. A query that does not parse is
 * counted and dropped; one that no server answers gets SERVFAIL.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { buildEmptyResponse } from "../engines/dns/messages.js";
import {
  networkExchange,
  type Upstream,
  type UpstreamExchange,
  type UpstreamProtocol,
} from "../engines/dns/upstream.js";
import { Flag, HEADER_BYTES, parseMessage, Rcode, readName } from "../engines/dns/wire.js";

export interface SplitDnsStubOptions {
  /** The address to listen on (port 53 unless `port` says otherwise). */
  address: string;
  port?: number;
  /** Lower-case names without trailing dots: "corp.test" also takes "db.corp.test". */
  domains: readonly string[];
  /** The remote exit's resolver, reached through the TUN. */
  remote: readonly Upstream[];
  /** This computer's resolvers as resolv.conf named them before. */
  others: readonly Upstream[];
  /** Injectable for tests; real sockets otherwise. */
  exchange?: UpstreamExchange;
  timeoutMs?: number;
}

export interface SplitDnsCounts {
  toRemote: number;
  toOthers: number;
  dropped: number;
  failed: number;
}

const MAX_TCP_MESSAGE = 65535;
const DEFAULT_TIMEOUT_MS = 2_000;

/** Whether `name` ("db.corp.test.") is one of `domains` or under one. */
export function underDomains(name: string, domains: readonly string[]): boolean {
  const bare = name.toLowerCase().replace(/\.$/, "");
  return domains.some((domain) => bare === domain || bare.endsWith(`.${domain}`));
}

export class SplitDnsStub {
  readonly counts: SplitDnsCounts = { toRemote: 0, toOthers: 0, dropped: 0, failed: 0 };
  private readonly exchange: UpstreamExchange;
  private readonly timeoutMs: number;

  private constructor(
    private readonly options: SplitDnsStubOptions,
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
  ) {
    this.exchange = options.exchange ?? networkExchange;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  static async start(options: SplitDnsStubOptions): Promise<SplitDnsStub> {
    const port = options.port ?? 53;
    const udp = createSocket({ type: options.address.includes(":") ? "udp6" : "udp4" });
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(port, options.address, () => resolve());
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(udp.address().port, options.address, () => resolve());
      });
    } catch (error) {
      udp.close();
      throw error;
    }
    const stub = new SplitDnsStub(options, udp, tcp);
    udp.on("error", () => undefined); // a send to a vanished client; the next query goes on
    udp.on("message", (query, from) => {
      void stub.answer(query, "udp").then((response) => {
        if (response) udp.send(response, from.port, from.address);
      });
    });
    tcp.on("connection", (socket) => stub.serveTcp(socket));
    return stub;
  }

  /** The UDP port it listens on (the TCP one is the same). */
  get port(): number {
    return this.udp.address().port;
  }

  close(): Promise<void> {
    this.udp.close();
    return new Promise((resolve) => this.tcp.close(() => resolve()));
  }

  /** The response to send, or null for a query that is not one (dropped). */
  private async answer(query: Buffer, protocol: UpstreamProtocol): Promise<Buffer | null> {
    let name: string;
    let flags: number;
    try {
      const message = parseMessage(query);
      const question = message.questions[0];
      flags = message.header.flags;
      if (question === undefined || (flags & Flag.QR) !== 0) throw new Error("no question");
      name = readName(query, question.nameStart);
    } catch {
      this.counts.dropped++;
      return null;
    }
    const remote = underDomains(name, this.options.domains);
    if (remote) this.counts.toRemote++;
    else this.counts.toOthers++;
    for (const upstream of remote ? this.options.remote : this.options.others) {
      try {
        return await this.exchange(query, upstream, protocol, this.timeoutMs);
      } catch {
        // the next server, as a stub resolver would
      }
    }
    this.counts.failed++;
    return buildEmptyResponse({ id: query.readUInt16BE(0), queryFlags: flags, rcode: Rcode.SERVFAIL });
  }

  private serveTcp(socket: Socket): void {
    socket.on("error", () => undefined);
    socket.setTimeout(10_000, () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (length < HEADER_BYTES || length > MAX_TCP_MESSAGE) {
          this.counts.dropped++;
          socket.destroy();
          return;
        }
        if (pending.length < 2 + length) return;
        const query = Buffer.from(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        void this.answer(query, "tcp").then((response) => {
          if (!response || socket.destroyed) return;
          const frame = Buffer.alloc(2 + response.length);
          frame.writeUInt16BE(response.length, 0);
          response.copy(frame, 2);
          socket.write(frame);
        });
      }
    });
  }
}
