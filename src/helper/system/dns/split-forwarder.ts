// Split DNS where the remote's resolver is a plain /etc/resolv.conf. glibc has one server list for
// every name (no per-domain routing), so resolv.conf names this forwarder, which listens on the
// TUN's own address (a local address: one loopback hop, and a port no other program on the remote
// holds) and sends each query either through the link to this computer's stub (names under the
// split domains) or straight to the servers resolv.conf named before Backhaul (everything else).
// The answer comes back byte for byte as the server sent it, under the client's own query id.
//
// UDP, the hot path, costs one loopback hop and no allocation beyond the copy it forwards: the
// question name is read in place, the query goes out from a connected socket of its own (a random
// port, as glibc's) under a random id of ours, and the answer, once its question matches, goes
// back under the client's. Where the native addon has DnsRelay
// (Linux), a thread of its own does that for names outside the domains (native/src/
// dns_relay_linux.c: a JavaScript hop cost ~190 µs a lookup) and hands everything else here; the
// same relay in JavaScript below is the fallback, and does the rest. A query the quick read does
// not take (not one plain question) goes the slow way, through the DNS engine's parseQuery, which
// answers what it refuses with its error or drops it, counted; TCP goes that way too (glibc
// retries over TCP on truncation, and `options use-vc` asks for TCP only).
import { randomInt } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { DnsTransport } from "../../../shared/dns-row.js";
import type { NativeDnsRelay } from "../../native/addon-types.js";
import { loadNativeAddon } from "../../native/load-addon.js";
import { emptyAnswerTo, parseQuery } from "../../engines/dns/query.js";
import { startDnsTcpServer, type DnsTcpServer } from "../../engines/dns/tcp-server.js";
import {
  networkExchange,
  UpstreamError,
  type Upstream,
  type UpstreamExchange,
} from "../../engines/dns/upstream.js";
import { Flag, HEADER_BYTES, MAX_NAME_BYTES, Rcode, readName } from "../../engines/dns/wire.js";

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
  /** False: relay UDP in JavaScript even where the native relay exists (tests, comparisons). */
  native?: boolean;
  log?: (line: string) => void;
}

export interface SplitForwarderCounters {
  viaLink: number;
  viaRemote: number;
  /** Queries no server answered (dropped, as a server that times out). */
  unanswered: number;
  /** UDP queries dropped because MAX_PENDING were in flight. */
  overloaded: number;
  /** Malformed or refused queries: answered with an error or dropped. */
  refused: number;
}

function normalize(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, "");
}

/** One standard query with one plain question: its name in lower case, dotted, and where the question ends. */
function quickQuestion(message: Buffer): { name: string; end: number } | null {
  if (message.length < HEADER_BYTES + 5) return null;
  const flags = message.readUInt16BE(2);
  if ((flags & Flag.QR) !== 0 || ((flags >> 11) & 0xf) !== 0 || message.readUInt16BE(4) !== 1) return null;
  let at = HEADER_BYTES;
  let name = "";
  for (;;) {
    const length = message[at];
    // The length byte at `at` ends a name of at least at - HEADER_BYTES + 1 bytes: at most 255.
    if (length === undefined || (length & 0xc0) !== 0 || at - HEADER_BYTES >= MAX_NAME_BYTES) return null;
    at += 1;
    if (length === 0) break;
    // A dot inside a label (`a\.b`) would read as two labels: the slow path escapes it.
    if (at + length > message.length || message.subarray(at, at + length).includes(0x2e)) return null;
    name += (name === "" ? "" : ".") + message.toString("latin1", at, at + length).toLowerCase();
    at += length;
  }
  return at + 4 <= message.length ? { name, end: at + 4 } : null;
}

/** Who sent a UDP datagram. */
interface Peer {
  address: string;
  port: number;
}

/** Where UDP queries come in and answers go out: the native relay's socket, or a dgram socket. */
interface UdpFront {
  readonly port: number;
  send(message: Buffer, to: Peer): void;
  close(): void;
}

type Deliver = (message: Buffer, from: Peer) => void;

/** The native relay, or null where the addon has none (not Linux, an older build) or it cannot start. */
function nativeFront(
  options: SplitForwarderOptions,
  port: number,
  deliver: Deliver,
): (UdpFront & { relay: NativeDnsRelay }) | null {
  if (options.native === false) return null;
  let relay: NativeDnsRelay;
  try {
    const { DnsRelay } = loadNativeAddon();
    if (DnsRelay === undefined) return null;
    relay = new DnsRelay(
      {
        listen: options.listen,
        port,
        servers: options.remoteServers.map(({ address, port }) => ({ address, port })),
        domains: [...new Set(options.domains.map(normalize))],
        nextServerMs: NEXT_SERVER_MS,
        lastServerMs: LAST_SERVER_MS,
        maxPending: MAX_PENDING,
      },
      (message, address, port) => deliver(message, { address, port }),
    );
  } catch (error) {
    // The port is taken: JavaScript could not have it either, and says so the same way.
    if ((error as NodeJS.ErrnoException).syscall === "bind") throw error;
    options.log?.(`dns forwarder: relaying in JavaScript (${(error as Error).message})`);
    return null;
  }
  return {
    relay,
    port: relay.port,
    send: (message, to) => void relay.send(message, to.address, to.port),
    close: () => relay.close(),
  };
}

async function dgramFront(options: SplitForwarderOptions, port: number, deliver: Deliver): Promise<UdpFront> {
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
  udp.on("message", (message, from: RemoteInfo) => deliver(message, from));
  return {
    port: udp.address().port,
    send: (message, to) => udp.send(message, to.port, to.address),
    close: () => udp.close(),
  };
}

/** A UDP query on its way: who asked, under which id, and which server has it now. */
interface Pending {
  address: string;
  port: number;
  clientId: number;
  /** The query as forwarded (our id); the question ends at `questionEnd`. */
  query: Buffer;
  questionEnd: number;
  servers: readonly Upstream[];
  index: number;
  timer: NodeJS.Timeout | undefined;
  /** The query's own socket to its current server, when it has one (see MAX_QUERY_SOCKETS). */
  socket: Socket | undefined;
}

/** Queries in flight at once; past this, new ones are dropped (and counted) until answers come. */
const MAX_PENDING = 4_096;
/**
 * Each query goes to its server from a socket of its own, on a port the kernel picks at random
 * (RFC 5452 §9.2, as glibc does): a spoofed answer must guess the port as well as the random id.
 * At most this many at once, as the native relay (descriptors are finite); past it, a query
 * shares its server's long-lived socket.
 */
const MAX_QUERY_SOCKETS = 256;

/** A connected socket to one server; sends wait in `queue` until the connect is done. */
interface UpstreamSocket {
  socket: Socket;
  queue: Buffer[] | null;
}

function serverKey(server: Upstream): string {
  return `${server.address} ${server.port}`;
}

export class SplitForwarder {
  /** What this file counted; the native relay counts its own (see `counters`). */
  private readonly scriptCounters: SplitForwarderCounters = {
    viaLink: 0,
    viaRemote: 0,
    unanswered: 0,
    refused: 0,
    overloaded: 0,
  };
  private domains: Set<string>;
  private readonly exchange: UpstreamExchange;
  private closed = false;
  private tcp: DnsTcpServer | undefined;
  private readonly pending = new Map<number, Pending>();
  /**
   * Past MAX_QUERY_SOCKETS, one shared connected socket per server. Every socket is connected: the
   * kernel filters other senders and reports unreachable.
   */
  private readonly upstreams = new Map<string, UpstreamSocket>();
  private querySockets = 0;

  private constructor(
    private readonly options: SplitForwarderOptions,
    private readonly udp: UdpFront,
    /** The native relay behind `udp`, when it is that. */
    private readonly relay: NativeDnsRelay | undefined,
  ) {
    this.domains = new Set(options.domains.map(normalize));
    this.exchange = options.exchange ?? networkExchange;
  }

  static async start(options: SplitForwarderOptions): Promise<SplitForwarder> {
    // Port 0 (tests): the kernel picks the UDP port, and TCP must have the same number, which
    // another process may hold already; a few fresh picks find a free pair. A fixed port's
    // refusal is the answer.
    for (let attempt = 1; ; attempt++) {
      try {
        return await SplitForwarder.startOnce(options);
      } catch (error) {
        const taken = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
        if (options.port !== 0 || !taken || attempt >= 5) throw error;
      }
    }
  }

  private static async startOnce(options: SplitForwarderOptions): Promise<SplitForwarder> {
    const port = options.port ?? 53;
    // Datagrams arrive on later turns of the event loop, once the forwarder exists.
    let deliver: Deliver = () => undefined;
    const native = nativeFront(options, port, (message, from) => deliver(message, from));
    const udp = native ?? (await dgramFront(options, port, (message, from) => deliver(message, from)));
    const forwarder = new SplitForwarder(options, udp, native?.relay);
    deliver = (message, from) => forwarder.answerUdp(message, from);
    try {
      forwarder.tcp = await startDnsTcpServer(forwarder, { host: options.listen, port: udp.port });
    } catch (error) {
      udp.close();
      throw error;
    }
    return forwarder;
  }

  get port(): number {
    return this.udp.port;
  }

  /** Which code relays UDP queries for names outside the domains. */
  get udpRelay(): "native" | "javascript" {
    return this.relay === undefined ? "javascript" : "native";
  }

  /** Both paths' counts: what the native relay took and what came here. */
  get counters(): SplitForwarderCounters {
    const mine = { ...this.scriptCounters };
    if (this.relay === undefined) return mine;
    const native = this.relay.stats();
    return {
      viaLink: mine.viaLink,
      viaRemote: mine.viaRemote + native.viaRemote,
      unanswered: mine.unanswered + native.unanswered,
      refused: mine.refused + native.refused,
      overloaded: mine.overloaded + native.overloaded,
    };
  }

  /** Later CONFIGs: the routes changed, and with them the reverse zones. */
  setDomains(domains: readonly string[]): void {
    this.domains = new Set(domains.map(normalize));
    this.relay?.setDomains([...this.domains]);
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
      this.scriptCounters.refused++;
      return parsed.kind === "reject" ? parsed.response : null;
    }
    const { query } = parsed;
    const split = this.isSplit(readName(query.name, 0));
    if (split) this.scriptCounters.viaLink++;
    else this.scriptCounters.viaRemote++;
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
    this.scriptCounters.unanswered++;
    if (!failedFast) return null;
    return emptyAnswerTo(query, Rcode.SERVFAIL);
  }

  private answerUdp(message: Buffer, from: Peer): void {
    const question = quickQuestion(message);
    if (question === null) {
      void this.handleQuery(message, "udp").then((answer) => {
        if (answer !== null && !this.closed) this.udp.send(answer, from);
      });
      return;
    }
    if (this.pending.size >= MAX_PENDING) {
      this.scriptCounters.overloaded++;
      return;
    }
    const split = this.isSplit(question.name);
    if (split) this.scriptCounters.viaLink++;
    else this.scriptCounters.viaRemote++;
    const servers = split ? this.options.linkServers : this.options.remoteServers;
    // Random, not the next one: a spoofer who sees one id must not know the next.
    let id = randomInt(0x10000);
    for (let tries = 0; this.pending.has(id) && tries < 16; tries++) id = randomInt(0x10000);
    while (this.pending.has(id)) id = (id + 1) & 0xffff; // MAX_PENDING < 65536: one is free
    const query = Buffer.from(message); // the receive buffer is the socket's; this copy is ours
    query.writeUInt16BE(id, 0);
    const pending: Pending = {
      address: from.address,
      port: from.port,
      clientId: message.readUInt16BE(0),
      query,
      questionEnd: question.end,
      servers,
      index: -1,
      timer: undefined,
      socket: undefined,
    };
    this.pending.set(id, pending);
    this.advance(id, pending, false);
  }

  /** To the next server, or, after the last, the end: silence after timeouts, SERVFAIL after refusals. */
  private advance(id: number, pending: Pending, failedFast: boolean): void {
    clearTimeout(pending.timer);
    this.release(pending);
    pending.index++;
    const server = pending.servers[pending.index];
    if (server === undefined) {
      this.pending.delete(id);
      this.scriptCounters.unanswered++;
      if (failedFast && !this.closed) {
        const answer = Buffer.from(pending.query.subarray(0, pending.questionEnd));
        const flags = pending.query.readUInt16BE(2);
        answer.writeUInt16BE(pending.clientId, 0);
        answer.writeUInt16BE(Flag.QR | Flag.RA | (flags & (0x7800 | Flag.RD | Flag.CD)) | Rcode.SERVFAIL, 2);
        answer.fill(0, 6, HEADER_BYTES); // the question alone
        this.udp.send(answer, pending);
      }
      return;
    }
    const waitMs = pending.index < pending.servers.length - 1 ? NEXT_SERVER_MS : LAST_SERVER_MS;
    pending.timer = setTimeout(() => this.advance(id, pending, false), waitMs);
    if (this.querySockets < MAX_QUERY_SOCKETS) {
      this.sendFromOwnSocket(id, pending, server);
      return;
    }
    const upstream = this.upstream(server);
    if (upstream.queue === null) upstream.socket.send(pending.query);
    else upstream.queue.push(pending.query);
  }

  /** The query to `server` from a fresh socket: a random port, connected, closed when it is done. */
  private sendFromOwnSocket(id: number, pending: Pending, server: Upstream): void {
    const socket = createSocket(isIPv6(server.address) ? "udp6" : "udp4");
    this.querySockets++;
    pending.socket = socket;
    const key = serverKey(server);
    socket.on("message", (reply) => {
      if (pending.socket === socket) this.answerFromUpstream(reply, key);
    });
    // ICMP unreachable, or no socket to be had: on to the next server at once.
    socket.on("error", () => {
      if (pending.socket !== socket) return;
      this.release(pending);
      if (this.pending.get(id) === pending) this.advance(id, pending, true);
    });
    socket.connect(server.port, server.address, () => {
      if (pending.socket === socket) socket.send(pending.query);
    });
  }

  private release(pending: Pending): void {
    if (pending.socket === undefined) return;
    pending.socket.close();
    pending.socket = undefined;
    this.querySockets--;
  }

  private upstream(server: Upstream): UpstreamSocket {
    const key = serverKey(server);
    const existing = this.upstreams.get(key);
    if (existing !== undefined) return existing;
    const socket = createSocket(isIPv6(server.address) ? "udp6" : "udp4");
    const upstream: UpstreamSocket = { socket, queue: [] };
    socket.on("message", (reply) => this.answerFromUpstream(reply, key));
    // ICMP unreachable (the server is down or not there): everything it holds moves on at once,
    // and the next query gets a fresh socket.
    socket.on("error", () => {
      if (this.upstreams.get(key) === upstream) this.upstreams.delete(key);
      upstream.queue = null;
      socket.close();
      for (const [id, pending] of [...this.pending])
        if (serverKey(pending.servers[pending.index] ?? server) === key) this.advance(id, pending, true);
    });
    socket.connect(server.port, server.address, () => {
      for (const query of upstream.queue ?? []) socket.send(query);
      upstream.queue = null;
    });
    this.upstreams.set(key, upstream);
    return upstream;
  }

  private answerFromUpstream(reply: Buffer, key: string): void {
    if (reply.length < HEADER_BYTES) return;
    const id = reply.readUInt16BE(0);
    const pending = this.pending.get(id);
    // On a shared socket, a late answer from a server we already moved on from is still the
    // answer: take it. (A query's own socket closes when it moves on: its port is gone.)
    if (pending === undefined || !pending.servers.some((server) => serverKey(server) === key)) return;
    // The answer to this question, as the native relay checks: not just any datagram with the id.
    if (
      reply.length < pending.questionEnd ||
      !reply
        .subarray(HEADER_BYTES, pending.questionEnd)
        .equals(pending.query.subarray(HEADER_BYTES, pending.questionEnd))
    )
      return;
    clearTimeout(pending.timer);
    this.release(pending);
    this.pending.delete(id);
    if (this.closed) return;
    reply.writeUInt16BE(pending.clientId, 0);
    this.udp.send(reply, pending);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      this.release(pending);
    }
    this.pending.clear();
    for (const upstream of this.upstreams.values()) upstream.socket.close();
    this.upstreams.clear();
    this.udp.close();
    await this.tcp?.close();
  }
}
