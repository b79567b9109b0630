// ICMP echo through real ICMP sockets (Linux, over the addon).
//
// One socket per address family, shared by every flow. Why not one per flow: a raw socket sees
// every echo reply the host receives, so N raw sockets would each get (and filter) all N flows'
// replies; and a datagram socket's identifier is the kernel's, not the remote's, so a socket per
// flow would not preserve it anyway. Instead each request is sent with the socket's identifier
// and a sequence number of ours, unique among the requests in flight on that socket; the reply's
// sequence finds the request again, and the reply written back carries the remote's own
// identifier and sequence. This is how a NAT rewrites echo identifiers.
import { randomInt } from "node:crypto";
import { buildIcmpEchoPacket, type IcmpView, type IpView } from "../../packet/index.js";
import type { IcmpForwarder } from "../icmp-forwarder.js";
import { socketErrorRefusal } from "../refusal.js";
import {
  DEFAULT_ECHO_FLOW_LIMITS,
  echoReplyType,
  echoRequestType,
  EchoFlows,
  type EchoFlow,
  type EchoFlowLimits,
  type IcmpForwarderContext,
} from "./echo-flows.js";
import {
  openEchoSocket,
  type EchoSocket,
  type EchoSocketMode,
  type EchoSocketOpener,
} from "./echo-socket.js";

export interface LinuxIcmpLimits extends EchoFlowLimits {
  /** Requests awaiting a reply, over all flows: a flood cannot grow the table without bound. */
  maxOutstanding: number;
  /** A request unanswered for this long is forgotten (the remote's ping reports it lost). */
  replyTimeoutMs: number;
}

export const DEFAULT_LINUX_ICMP_LIMITS: LinuxIcmpLimits = {
  ...DEFAULT_ECHO_FLOW_LIMITS,
  maxOutstanding: 1024,
  replyTimeoutMs: 10_000,
};

export interface LinuxIcmpOptions {
  limits?: LinuxIcmpLimits;
  /** Opens the socket of a family; the addon's by default (tests pass a fake). */
  openSocket?: EchoSocketOpener;
  /** Told once per family when its socket cannot be opened or fails. */
  log?: (message: string) => void;
}

interface Outstanding {
  flow: EchoFlow;
  /** The remote's sequence number, restored in the reply. */
  sequence: number;
  sentAt: number;
}

interface FamilySocket {
  socket: EchoSocket;
  /** The identifier on the wire: the kernel's (datagram) or one we picked (raw). */
  identifier: number;
  nextSequence: number;
  outstanding: Map<number, Outstanding>;
}

/** Drops that are neither the policy's nor a limit's, kept here for diagnostics. */
export interface LinuxIcmpStats {
  sendErrors: number;
  /** Replies matching no request in flight: late, duplicated, or another program's. */
  strayReplies: number;
  expired: number;
}

export class LinuxIcmpForwarder implements IcmpForwarder {
  readonly stats: LinuxIcmpStats = { sendErrors: 0, strayReplies: 0, expired: 0 };
  private readonly limits: LinuxIcmpLimits;
  private readonly flows: EchoFlows;
  private readonly sockets = new Map<4 | 6, FamilySocket>();
  /** Families whose socket could not be opened, with why (told once). */
  private readonly unavailable = new Map<4 | 6, string>();
  private readonly openSocket: EchoSocketOpener;
  private readonly log: (message: string) => void;
  private closed = false;

  constructor(
    private readonly context: IcmpForwarderContext,
    options: LinuxIcmpOptions = {},
  ) {
    this.limits = options.limits ?? DEFAULT_LINUX_ICMP_LIMITS;
    this.openSocket = options.openSocket ?? openEchoSocket;
    this.log = options.log ?? ((message) => console.warn(message));
    this.flows = new EchoFlows(context, this.limits, {
      onSweep: (now) => this.expire(now),
      onEmpty: () => this.closeSockets(),
    });
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /** How each family's socket is open right now ("datagram" or "raw"). */
  get modes(): { 4?: EchoSocketMode; 6?: EchoSocketMode } {
    return { 4: this.sockets.get(4)?.socket.mode, 6: this.sockets.get(6)?.socket.mode };
  }

  handle(ip: IpView, icmp: IcmpView): void {
    if (this.closed) return;
    const { counters } = this.context;
    if (icmp.type !== echoRequestType(ip.version)) {
      counters.icmpUnsupported++;
      return;
    }
    if (this.unavailable.has(ip.version)) {
      counters.icmpUnsupported++;
      return;
    }
    // Policy first: a refused destination must not open a socket.
    const flow = this.flows.admit(ip, icmp);
    if (!flow) return;
    const family = this.socketFor(ip.version);
    if (!family) {
      counters.icmpUnsupported++;
      this.flows.end(flow, `no ICMP socket: ${this.unavailable.get(ip.version) ?? "unknown"}`);
      return;
    }
    if (this.outstandingCount() >= this.limits.maxOutstanding) {
      counters.icmpOverLimit++;
      return;
    }
    const sequence = this.allocateSequence(family);
    const message = Buffer.allocUnsafe(icmp.buf.length);
    icmp.buf.copy(message);
    message.writeUInt16BE(0, 2); // the checksum is the kernel's (or the addon's, raw IPv4)
    message.writeUInt16BE(family.identifier, 4);
    message.writeUInt16BE(sequence, 6);
    const error = family.socket.send(flow.destination, message);
    if (error !== null) {
      this.stats.sendErrors++;
      // Told as a router would tell it (no route, a prohibit route, this computer's firewall);
      // only congestion is a quiet loss.
      const refusal = socketErrorRefusal(error, ip);
      if (refusal) this.context.output.send(refusal);
      return;
    }
    family.outstanding.set(sequence, { flow, sequence: icmp.sequence, sentAt: this.context.table.now() });
    this.flows.countUp(flow, message.length);
  }

  /** What the once-a-second timer does: expire requests and idle flows (tests drive it by hand). */
  sweep(now?: number): void {
    this.flows.sweep(now);
  }

  /** Replies still in flight for an ended flow find it ended and are dropped (onReply). */
  endFlowsTo(matches: (address: Uint8Array) => boolean, reason: string): number {
    return this.flows.endFlowsTo(matches, reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.flows.endAll(reason);
    this.closeSockets();
  }

  private socketFor(version: 4 | 6): FamilySocket | undefined {
    const existing = this.sockets.get(version);
    if (existing) return existing;
    if (this.unavailable.has(version)) return undefined;
    try {
      const socket = this.openSocket(
        version,
        (source, message) => this.onReply(version, source, message),
        (error) => this.onSocketError(version, error),
      );
      const family: FamilySocket = {
        socket,
        identifier: socket.identifier ?? randomInt(1, 0x10000),
        nextSequence: randomInt(0, 0x10000),
        outstanding: new Map(),
      };
      this.sockets.set(version, family);
      return family;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.unavailable.set(version, reason);
      this.log(`ICMP echo over IPv${version} is unavailable: ${reason}`);
      return undefined;
    }
  }

  /** A sequence number not in flight on this socket (there are at most maxOutstanding of them). */
  private allocateSequence(family: FamilySocket): number {
    let sequence = family.nextSequence;
    while (family.outstanding.has(sequence)) sequence = (sequence + 1) & 0xffff;
    family.nextSequence = (sequence + 1) & 0xffff;
    return sequence;
  }

  private outstandingCount(): number {
    let count = 0;
    for (const family of this.sockets.values()) count += family.outstanding.size;
    return count;
  }

  private onReply(version: 4 | 6, source: Buffer, message: Buffer): void {
    const family = this.sockets.get(version);
    if (!family || message.length < 8 || message[0] !== echoReplyType(version)) return;
    // Raw sockets see every echo reply the host gets: only ours carry our identifier.
    const pending =
      message.readUInt16BE(4) === family.identifier
        ? family.outstanding.get(message.readUInt16BE(6))
        : undefined;
    if (!pending || !source.equals(pending.flow.destination)) {
      this.stats.strayReplies++;
      return;
    }
    family.outstanding.delete(message.readUInt16BE(6));
    const { flow } = pending;
    if (flow.ended) return;
    this.context.output.send(
      buildIcmpEchoPacket({
        kind: "reply",
        src: flow.destination,
        dst: flow.remote,
        identifier: flow.identifier,
        sequence: pending.sequence,
        payload: message.subarray(8),
      }),
    );
    this.flows.countDown(flow, message.length);
  }

  private onSocketError(version: 4 | 6, error: Error): void {
    // Receiving stopped; the next request opens a fresh socket.
    this.log(`ICMP echo socket (IPv${version}) failed: ${error.message}`);
    const family = this.sockets.get(version);
    if (!family) return;
    this.sockets.delete(version);
    family.socket.close();
  }

  private expire(now: number): void {
    for (const family of this.sockets.values()) {
      for (const [sequence, pending] of family.outstanding) {
        if (now - pending.sentAt < this.limits.replyTimeoutMs) continue;
        family.outstanding.delete(sequence);
        this.stats.expired++;
      }
    }
  }

  /** No flows left: release the sockets (and the event loop); the next request reopens them. */
  private closeSockets(): void {
    for (const family of this.sockets.values()) family.socket.close();
    this.sockets.clear();
  }
}
