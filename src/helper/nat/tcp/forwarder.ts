import type { FlowRow } from "../../../shared/flow-row.js";
import {
  buildTcpPacket,
  formatAddress,
  IpProtocol,
  TcpFlag,
  type IpView,
  type TcpView,
} from "../../packet/index.js";
import type { EgressPolicy } from "../egress-policy.js";
import { flowKey } from "../flow-key.js";
import type { FlowTable } from "../flow-table.js";
import type { MemoryBudget } from "../memory-budget.js";
import type { NatCounters } from "../nat-counters.js";
import type { PacketOutput } from "../packet-output.js";
import { hostPort } from "../format.js";
import { adminProhibited } from "../refusal.js";
import { AcceptingDestinations } from "./accepting-destinations.js";
import type { DialOutcome, TcpContext, TcpLimits } from "./context.js";
import { TcpEndpoint } from "./endpoint.js";
import { seqAdd } from "./seq.js";

export interface TcpForwarderOptions {
  output: PacketOutput;
  table: FlowTable;
  budget: MemoryBudget;
  policy: EgressPolicy;
  counters: NatCounters;
  limits: TcpLimits;
  linkMtu: number;
  /** Most TCP flows at once; a SYN beyond it is reset ("too many flows"). */
  maxFlows: number;
  /**
   * Most connects in progress at once; SYNs beyond it are dropped (and counted) like a full
   * SYN queue: the remote kernel retries, and a SYN flood cannot open unbounded sockets here.
   */
  maxDialing: number;
  /** A timer or drain callback threw (a bug): counted and logged by the engine, never thrown. */
  internalError: (error: unknown) => void;
}

const TICK_MS = 20;

export interface DialTarget {
  host: string;
  port: number;
}

/**
 * Accepts TCP on behalf of the destinations (gVisor's forwarder.go): one TcpEndpoint per flow,
 * created by a SYN that the egress policy allows, dialled before it is answered.
 */
export class TcpForwarder implements TcpContext {
  readonly output: PacketOutput;
  readonly table: FlowTable;
  readonly budget: MemoryBudget;
  readonly limits: TcpLimits;
  readonly linkMtu: number;
  private readonly flows = new Map<string, TcpEndpoint>();
  private readonly timed = new Set<TcpEndpoint>();
  private readonly blocked = new Set<TcpEndpoint>();
  private readonly acks = new Set<TcpEndpoint>();
  private dialing = 0;
  private readonly accepting: AcceptingDestinations;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly options: TcpForwarderOptions) {
    this.output = options.output;
    this.table = options.table;
    this.budget = options.budget;
    this.limits = options.limits;
    this.linkMtu = options.linkMtu;
    this.accepting = new AcceptingDestinations(
      options.limits.optimisticAcceptMs,
      options.limits.optimisticMinConnectMs,
    );
    options.output.onDrain(() => this.drained());
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /**
   * One TCP segment from the remote. `ip` and `tcp` are views into the link's frame. `redirect`
   * sends a new flow to a local service instead of its destination, bypassing the egress policy
   * (used for the DNS stub).
   */
  handle(ip: IpView, tcp: TcpView, redirect?: DialTarget): void {
    const key = flowKey(IpProtocol.TCP, ip, tcp.buf);
    const flow = this.flows.get(key);
    if (flow) {
      flow.receive(tcp);
      return;
    }
    const flags = tcp.flags;
    if ((flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN) {
      this.open(key, ip, tcp, redirect);
      return;
    }
    if (!(flags & TcpFlag.RST)) {
      // A segment for no flow (the helper restarted, or the flow timed out): reset it (RFC 9293 §3.10.7.1).
      this.options.counters.tcpStraySegments++;
      this.output.send(resetFor(ip, tcp));
    }
  }

  private open(key: string, ip: IpView, tcp: TcpView, redirect: DialTarget | undefined): void {
    const counters = this.options.counters;
    const decision = redirect ? { allowed: true as const } : this.options.policy.check(ip.dst);
    if (!decision.allowed) {
      counters.refused++;
      this.output.send(adminProhibited(ip));
      return;
    }
    if (tcp.dstPort === 0 && !redirect) {
      // Reserved: nothing listens on port 0, so a host resets it like any closed port.
      counters.refused++;
      this.output.send(resetFor(ip, tcp));
      return;
    }
    if (this.flows.size >= this.options.maxFlows) {
      counters.tcpOverLimit++;
      this.output.send(resetFor(ip, tcp));
      return;
    }
    if (this.dialing >= this.options.maxDialing) {
      counters.tcpSynDropped++;
      return;
    }
    const family = ip.version;
    const destHost = formatAddress(ip.dst);
    const row = this.table.add({
      protocol: "tcp",
      family,
      remote: hostPort(formatAddress(ip.src), tcp.srcPort),
      destination: hostPort(destHost, tcp.dstPort),
      state: "DIALING",
    });
    const dial = redirect ?? { host: destHost, port: tcp.dstPort };
    const endpoint = new TcpEndpoint(
      key,
      {
        family,
        remoteAddress: Buffer.from(ip.src),
        remotePort: tcp.srcPort,
        destAddress: Buffer.from(ip.dst),
        destPort: tcp.dstPort,
        destHost,
        dial,
      },
      { seq: tcp.seq, window: tcp.window, options: safeOptions(tcp), packet: Buffer.from(ip.buf) },
      row,
      this,
    );
    this.flows.set(key, endpoint);
    this.dialing++;
    row.upPackets++;
    endpoint.dial(this.accepting.answerEarly(dial.host, dial.port));
  }

  /** Sends the ACKs owed after a batch of packets: one per flow, not one per segment. */
  flush(): void {
    if (this.acks.size === 0) return;
    for (const endpoint of this.acks) endpoint.sendAck();
    this.acks.clear();
  }

  /** Resets every flow, both ways: the link is going away. */
  close(reason: string): void {
    for (const endpoint of [...this.flows.values()]) endpoint.abort(reason);
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  // ---- TcpContext ----

  watchTimers(endpoint: TcpEndpoint): void {
    this.timed.add(endpoint);
    if (!this.ticker) {
      this.ticker = setInterval(() => this.tick(), TICK_MS);
      this.ticker.unref();
    }
  }

  dialFinished(endpoint: TcpEndpoint, outcome: DialOutcome): void {
    this.dialing--;
    const { host, port } = endpoint.ends.dial;
    if (outcome === "connected") this.accepting.accepted(host, port, endpoint.connectMs);
    else if (outcome === "failed") this.accepting.failed(host, port);
  }

  waitForDrain(endpoint: TcpEndpoint): void {
    this.blocked.add(endpoint);
  }

  ackLater(endpoint: TcpEndpoint): void {
    this.acks.add(endpoint);
  }

  closed(endpoint: TcpEndpoint, _row: FlowRow): void {
    if (this.flows.get(endpoint.key) === endpoint) {
      this.flows.delete(endpoint.key);
    }
    this.timed.delete(endpoint);
    this.blocked.delete(endpoint);
    this.acks.delete(endpoint);
  }

  private drained(): void {
    const waiting = [...this.blocked];
    this.blocked.clear();
    for (const endpoint of waiting) {
      if (!this.output.writable) {
        this.blocked.add(endpoint);
        continue;
      }
      this.contained(endpoint, () => endpoint.resumeSending());
    }
  }

  /**
   * Runs a timer's or the link's callback for `endpoint`: a throw there would stop the helper, so
   * it is reported as a bug and ends only that flow.
   */
  private contained(endpoint: TcpEndpoint | undefined, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.options.internalError(error);
      if (endpoint) this.contained(undefined, () => endpoint.abort("internal error"));
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const endpoint of this.timed) {
      if (endpoint.deadline === 0) this.timed.delete(endpoint);
      else if (endpoint.deadline <= now) this.contained(endpoint, () => endpoint.onTimer(now));
    }
    this.contained(undefined, () => this.flush());
    if (this.timed.size === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}

function safeOptions(tcp: TcpView) {
  try {
    return tcp.options();
  } catch {
    return {}; // a malformed option list: negotiate nothing rather than refuse the flow
  }
}

/** The RST that answers `tcp` (RFC 9293 §3.10.7.1). */
export function resetFor(ip: IpView, tcp: TcpView): Buffer {
  const base = { src: ip.dst, dst: ip.src, srcPort: tcp.dstPort, dstPort: tcp.srcPort, window: 0 };
  if (tcp.hasAck) return buildTcpPacket({ ...base, seq: tcp.ack, ack: 0, flags: TcpFlag.RST });
  const length = tcp.payload.length + (tcp.syn ? 1 : 0) + (tcp.fin ? 1 : 0);
  return buildTcpPacket({ ...base, seq: 0, ack: seqAdd(tcp.seq, length), flags: TcpFlag.RST | TcpFlag.ACK });
}
