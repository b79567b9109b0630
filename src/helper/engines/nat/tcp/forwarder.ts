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
import type { DialOutcome, ForwardedFlow, TcpContext } from "./context.js";
import { TcpFlow } from "./flow.js";
import type { DialTarget, PeerOpener } from "./flow-peer.js";
import type { TcpLimits } from "./limits.js";
import { seqAdd } from "./seq.js";
import { socketPeerOpener } from "./socket-peer.js";

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
  /** TCP flows of the same limit kept elsewhere (the link's streams, stream-forwarder.ts). */
  otherFlows?: () => number;
  /**
   * Most connects in progress at once; SYNs beyond it are dropped (and counted) like a full
   * SYN queue: the remote kernel retries, and a SYN flood cannot open unbounded sockets here.
   */
  maxDialing: number;
  /** A timer or drain callback threw (a bug): counted and logged by the engine, never thrown. */
  internalError: (error: unknown) => void;
}

/**
 * Deadlines this close to the one that woke us run in the same wakeup: flows' timers coalesce
 * instead of each waking the process on its own.
 */
const COALESCE_MS = 5;

/**
 * How long an ACK for in-order data may wait for a reply to ride on (Linux waits 40 ms, smoltcp
 * 10 ms). Short, because a remote sender with Nagle on waits for this ACK before its next small
 * write; long enough for a destination on the LAN to answer a request, which then costs one
 * segment over the link instead of two.
 */
export const ACK_DELAY_MS = 2;

/**
 * Accepts TCP on behalf of the destinations (gVisor's forwarder.go): one TcpFlow per flow,
 * created by a SYN that the egress policy allows, its peer dialled before it is answered. The
 * forwarder owns the clock and the one timer of all its flows, set for the earliest deadline
 * among them — not a periodic tick: an idle flow's next deadline is its idle limit (hours away),
 * and a helper holding open flows must not wake the laptop fifty times a second for nothing.
 */
export class TcpForwarder implements TcpContext {
  readonly output: PacketOutput;
  readonly table: FlowTable;
  readonly budget: MemoryBudget;
  readonly limits: TcpLimits;
  readonly linkMtu: number;
  private readonly flows = new Map<string, TcpFlow>();
  private readonly timed = new Set<ForwardedFlow>();
  private readonly blocked = new Set<ForwardedFlow>();
  private readonly acks = new Set<ForwardedFlow>();
  private readonly delayedAcks = new Set<ForwardedFlow>();
  private ackTimer: NodeJS.Timeout | undefined;
  private dialing = 0;
  private readonly accepting: AcceptingDestinations;
  private timer: NodeJS.Timeout | undefined;
  /** When `timer` fires (ms on the forwarder's clock); 0 when none is set. */
  private wakeAt = 0;

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

  /** Whether one more flow fits maxFlows, counting the flows kept elsewhere. */
  flowSlotFree(): boolean {
    return this.flows.size + (this.options.otherFlows?.() ?? 0) < this.options.maxFlows;
  }

  /**
   * One TCP segment from the remote. `ip` and `tcp` are views into the link's frame. `service`
   * gives a new flow to a peer in this process instead of its destination, bypassing the egress
   * policy (the DNS stub's port 53).
   */
  handle(ip: IpView, tcp: TcpView, service?: PeerOpener): void {
    const key = flowKey(IpProtocol.TCP, ip, tcp.buf);
    const flow = this.flows.get(key);
    if (flow) {
      flow.receive(tcp, Date.now());
      return;
    }
    const flags = tcp.flags;
    if ((flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN) {
      this.open(key, ip, tcp, service);
      return;
    }
    if (!(flags & TcpFlag.RST)) {
      // A segment for no flow (the helper restarted, or the flow timed out): reset it (RFC 9293 §3.10.7.1).
      this.options.counters.tcpStraySegments++;
      this.output.send(resetFor(ip, tcp));
    }
  }

  private open(key: string, ip: IpView, tcp: TcpView, service: PeerOpener | undefined): void {
    const counters = this.options.counters;
    const decision = service ? { allowed: true as const } : this.options.policy.check(ip.dst);
    if (!decision.allowed) {
      counters.refused++;
      this.output.send(adminProhibited(ip));
      return;
    }
    if (tcp.dstPort === 0 && !service) {
      // Reserved: nothing listens on port 0, so a host resets it like any closed port.
      counters.refused++;
      this.output.send(resetFor(ip, tcp));
      return;
    }
    if (!this.flowSlotFree()) {
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
      name: this.table.nameOf(destHost),
      state: "DIALING",
    });
    const opener =
      service ?? socketPeerOpener({ host: destHost, port: tcp.dstPort }, this.limits.connectTimeoutMs);
    const dial = opener.dial;
    this.dialing++;
    row.upPackets++;
    const flow = new TcpFlow(
      key,
      {
        family,
        remoteAddress: Buffer.from(ip.src),
        remotePort: tcp.srcPort,
        destAddress: Buffer.from(ip.dst),
        destPort: tcp.dstPort,
      },
      { seq: tcp.seq, window: tcp.window, options: safeOptions(tcp), packet: Buffer.from(ip.buf) },
      row,
      this,
      opener,
      dial !== undefined && this.accepting.answerEarly(dial.host, dial.port),
    );
    this.flows.set(key, flow);
  }

  /** Sends the ACKs owed after a batch of packets: one per flow, not one per segment. */
  flush(): void {
    if (this.acks.size === 0) return;
    for (const flow of this.acks) flow.flushAck();
    this.acks.clear();
  }

  /**
   * Resets, both ways, the open flows whose socket dials an address `matches` (access to this
   * computer was switched off); peers in this process (the DNS stub's) and flows that already
   * ended (TIME-WAIT keeps its reason and gets no RST) are left. Returns how many.
   */
  resetFlowsTo(matches: (address: Uint8Array) => boolean, reason: string): number {
    let count = 0;
    for (const flow of [...this.flows.values()]) {
      const address = flow.dialedAddress;
      if (address === undefined || !flow.isOpen || !matches(address)) continue;
      // One flow that throws must not keep the others (and UDP's, ICMP's) from ending.
      this.contained(flow, () => flow.abort(reason));
      count++;
    }
    return count;
  }

  /** Resets every flow, both ways: the link is going away. */
  close(reason: string): void {
    for (const flow of [...this.flows.values()]) flow.abort(reason);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeAt = 0;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  // ---- TcpContext ----

  now(): number {
    return Date.now();
  }

  watchTimers(flow: ForwardedFlow): void {
    this.timed.add(flow);
    this.wakeBy(flow.deadline);
  }

  dialFinished(outcome: DialOutcome, dial: DialTarget | undefined, connectMs: number): void {
    this.dialing--;
    if (!dial) return;
    if (outcome === "connected") this.accepting.accepted(dial.host, dial.port, connectMs);
    else if (outcome === "failed") this.accepting.failed(dial.host, dial.port);
  }

  waitForDrain(flow: ForwardedFlow): void {
    this.blocked.add(flow);
  }

  ackLater(flow: ForwardedFlow, delayable: boolean): void {
    if (!delayable) {
      this.acks.add(flow);
      return;
    }
    this.delayedAcks.add(flow);
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => this.flushDelayedAcks(), ACK_DELAY_MS);
    this.ackTimer.unref();
  }

  /** The ACKs no reply carried in time; a flow whose ACK went with data has none left to send. */
  private flushDelayedAcks(): void {
    this.ackTimer = undefined;
    const owing = [...this.delayedAcks];
    this.delayedAcks.clear();
    for (const flow of owing) this.contained(flow, () => flow.flushAck());
  }

  closed(flow: ForwardedFlow): void {
    if (this.flows.get(flow.key) === flow) this.flows.delete(flow.key);
    this.timed.delete(flow);
    this.blocked.delete(flow);
    this.acks.delete(flow);
    this.delayedAcks.delete(flow);
  }

  private drained(): void {
    const waiting = [...this.blocked];
    this.blocked.clear();
    for (const flow of waiting) {
      if (!this.output.writable) {
        this.blocked.add(flow);
        continue;
      }
      this.contained(flow, () => flow.linkDrained(Date.now()));
    }
  }

  /**
   * Runs a timer's or the link's callback for `flow`: a throw there would stop the helper, so
   * it is reported as a bug and ends only that flow.
   */
  private contained(flow: ForwardedFlow | undefined, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.options.internalError(error);
      if (flow) this.contained(undefined, () => flow.abort("internal error"));
    }
  }

  /**
   * Makes sure the timer fires by `deadline`. Called on every segment, so it costs a comparison
   * when the timer is already due sooner: deadlines that move later (the idle limit, an RTO
   * pushed back by an ACK) leave the timer early, and the wakeup finds the next one then.
   */
  private wakeBy(deadline: number): void {
    if (deadline === 0 || (this.timer && this.wakeAt <= deadline)) return;
    clearTimeout(this.timer);
    this.wakeAt = deadline;
    this.timer = setTimeout(() => this.wake(), Math.max(0, deadline - Date.now()));
    this.timer.unref();
  }

  private wake(): void {
    this.timer = undefined;
    this.wakeAt = 0;
    const now = Date.now();
    let next = 0;
    for (const flow of this.timed) {
      if (flow.deadline !== 0 && flow.deadline <= now + COALESCE_MS)
        this.contained(flow, () => flow.timer(now));
      // The timer may have closed the flow, set a new deadline, or none.
      if (flow.deadline === 0) this.timed.delete(flow);
      else next = next === 0 ? flow.deadline : Math.min(next, flow.deadline);
    }
    this.contained(undefined, () => this.flush());
    this.wakeBy(next);
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
