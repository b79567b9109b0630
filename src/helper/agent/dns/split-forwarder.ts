// Split DNS where the remote's resolver is a plain /etc/resolv.conf. glibc has one server list for
// every name (no per-domain routing), so resolv.conf names this forwarder, which listens on the
// TUN's own address (a local address: one loopback hop, and a port no other program on the remote
// holds) and sends each query either through the link to this computer's stub (names under the
// split domains) or straight to the servers resolv.conf named before Backhaul (everything else).
// The answer comes back byte for byte as the server sent it, under the client's own query id.
//
// Queries are read by the DNS engine's parseQuery: what it refuses (no question, several, a
// response, zone transfers) is answered with its error or dropped, and counted. UDP and TCP are
// both served (glibc retries over TCP on truncation, and `options use-vc` asks for TCP only).
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { DnsTransport } from "../../../shared/dns-row.js";
import { buildEmptyResponse } from "../../engines/dns/messages.js";
import { parseQuery } from "../../engines/dns/query.js";
import { startDnsTcpServer, type DnsTcpServer } from "../../engines/dns/tcp-server.js";
import {
  networkExchange,
  UpstreamError,
  type Upstream,
  type UpstreamExchange,
} from "../../engines/dns/upstream.js";
import { Rcode, readName } from "../../engines/dns/wire.js";

/** Waiting this long for one server before asking the next, when there is a next. */
const NEXT_SERVER_MS = 2_000;
/** The last server gets glibc's own default timeout (RES_TIMEOUT). */
const LAST_SERVER_MS = 5_000;

export interface SplitForwarderOptions {
  /** The address to listen on: the TUN's own. */
  listen: string;
  /** Default 53; tests pick a free one. */
  port?: number;
  /** Names equal to or under these (case-insensitive) go to `linkServers`. */
  domains: readonly string[];
  /** This computer's DNS stub, through the link. */
  linkServers: readonly Upstream[];
  /** The remote's own servers, from resolv.conf as it was before Backhaul. */
  remoteServers: readonly Upstream[];
  /** Tests inject one; real sockets by default. */
  exchange?: UpstreamExchange;
  log?: (line: string) => void;
}

export interface SplitForwarderCounters {
  viaLink: number;
  viaRemote: number;
  /** Queries no server answered (dropped, as a server that times out). */
  unanswered: number;
  /** Malformed or refused queries: answered with an error or dropped. */
  refused: number;
}

function normalize(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, "");
}

export class SplitForwarder {
  readonly counters: SplitForwarderCounters = { viaLink: 0, viaRemote: 0, unanswered: 0, refused: 0 };
  private domains: Set<string>;
  private readonly exchange: UpstreamExchange;
  private closed = false;
  private tcp: DnsTcpServer | undefined;

  private constructor(
    private readonly options: SplitForwarderOptions,
    private readonly udp: Socket,
  ) {
    this.domains = new Set(options.domains.map(normalize));
    this.exchange = options.exchange ?? networkExchange;
    udp.on("message", (message, from) => void this.answerUdp(message, from));
  }

  static async start(options: SplitForwarderOptions): Promise<SplitForwarder> {
    const port = options.port ?? 53;
    const udp = createSocket({ type: isIPv6(options.listen) ? "udp6" : "udp4" });
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(port, options.listen, () => {
        udp.off("error", reject);
        resolve();
      });
    });
    // A send that fails (the client went away) must not end the agent.
    udp.on("error", (error) => options.log?.(`dns forwarder: ${error.message}`));
    const forwarder = new SplitForwarder(options, udp);
    try {
      forwarder.tcp = await startDnsTcpServer(forwarder, { host: options.listen, port: udp.address().port });
    } catch (error) {
      udp.close();
      throw error;
    }
    return forwarder;
  }

  get port(): number {
    return this.udp.address().port;
  }

  /** Later CONFIGs: the routes changed, and with them the reverse zones. */
  setDomains(domains: readonly string[]): void {
    this.domains = new Set(domains.map(normalize));
  }

  /** Whether `name` (presentation form, a trailing dot or not) is equal to or under a split domain. */
  isSplit(name: string): boolean {
    let rest = normalize(name);
    for (;;) {
      if (this.domains.has(rest)) return true;
      const dot = rest.indexOf(".");
      if (dot === -1) return false;
      rest = rest.slice(dot + 1);
    }
  }

  /** The answer to send back, or null to stay silent. */
  async handleQuery(message: Buffer, transport: DnsTransport): Promise<Buffer | null> {
    const parsed = parseQuery(message);
    if (parsed.kind !== "query") {
      this.counters.refused++;
      return parsed.kind === "reject" ? parsed.response : null;
    }
    const { query } = parsed;
    const split = this.isSplit(readName(query.name, 0));
    if (split) this.counters.viaLink++;
    else this.counters.viaRemote++;
    const servers = split ? this.options.linkServers : this.options.remoteServers;
    const protocol = transport === "tcp" ? "tcp" : "udp";
    let failedFast = false;
    for (const [index, server] of servers.entries()) {
      const waitMs = index < servers.length - 1 ? NEXT_SERVER_MS : LAST_SERVER_MS;
      try {
        return await this.exchange(message, server, protocol, waitMs);
      } catch (error) {
        // Unreachable or refused: SERVFAIL at once beats making the client wait for nothing.
        failedFast = !(error instanceof UpstreamError && error.failure === "timeout");
      }
    }
    this.counters.unanswered++;
    if (!failedFast) return null;
    return buildEmptyResponse({
      id: query.id,
      queryFlags: query.flags,
      rcode: Rcode.SERVFAIL,
      question: query,
      edns: query.edns,
    });
  }

  private async answerUdp(message: Buffer, from: RemoteInfo): Promise<void> {
    const answer = await this.handleQuery(message, "udp");
    if (answer === null || this.closed) return;
    this.udp.send(answer, from.port, from.address);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.udp.close();
    await this.tcp?.close();
  }
}
