// The part of ICMP echo forwarding shared by every platform: which requests are admitted, one
// NAT-table row per echo "flow" (remote source, destination, identifier), counters, idle expiry.
// How a request is really sent (ICMP socket, OS ping command) is up to the forwarder using it.
import type { FlowRow } from "../../../../shared/flow-row.js";
import { formatAddress, Icmpv4Type, Icmpv6Type, type IcmpView, type IpView } from "../../packet/index.js";
import type { EgressPolicy } from "../egress-policy.js";
import type { FlowTable } from "../flow-table.js";
import type { NatCounters } from "../nat-counters.js";
import type { PacketOutput } from "../packet-output.js";
import { adminProhibited } from "../refusal.js";

/** What the NAT engine hands an ICMP forwarder factory (see engine.ts). */
export interface IcmpForwarderContext {
  output: PacketOutput;
  table: FlowTable;
  policy: EgressPolicy;
  counters: NatCounters;
}

export interface EchoFlowLimits {
  maxFlows: number;
  /** A flow with no request or reply for this long is closed. */
  idleTimeoutMs: number;
}

export const DEFAULT_ECHO_FLOW_LIMITS: EchoFlowLimits = { maxFlows: 1024, idleTimeoutMs: 30_000 };

export interface EchoFlow {
  readonly key: string;
  readonly row: FlowRow;
  readonly family: 4 | 6;
  /** The remote program's address: replies go back to it. Copies, not views into a frame. */
  readonly remote: Buffer;
  readonly destination: Buffer;
  /** The identifier the remote chose; replies carry it again, whatever was sent on the wire. */
  readonly identifier: number;
  lastActivity: number;
  ended: boolean;
}

export interface EchoFlowHooks {
  /** Called on every sweep (about once a second while flows exist). */
  onSweep?(now: number): void;
  /** The last flow ended: sockets may be released. */
  onEmpty?(): void;
}

const SWEEP_MS = 1_000;

export function echoRequestType(version: 4 | 6): number {
  return version === 4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST;
}

export function echoReplyType(version: 4 | 6): number {
  return version === 4 ? Icmpv4Type.ECHO_REPLY : Icmpv6Type.ECHO_REPLY;
}

/** Version, both addresses and the identifier, straight from the header bytes. */
function echoKey(ip: IpView, identifier: number): string {
  const addresses = ip.version === 4 ? ip.buf.toString("latin1", 12, 20) : ip.buf.toString("latin1", 8, 40);
  return String.fromCharCode(ip.version, identifier) + addresses;
}

export class EchoFlows {
  private readonly flows = new Map<string, EchoFlow>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly context: IcmpForwarderContext,
    private readonly limits: EchoFlowLimits,
    private readonly hooks: EchoFlowHooks = {},
  ) {}

  get size(): number {
    return this.flows.size;
  }

  /**
   * The flow an echo request belongs to, opened if the policy and limits allow; undefined when
   * the packet is dropped (it has then been counted, and refused ones answered).
   */
  admit(ip: IpView, icmp: IcmpView): EchoFlow | undefined {
    const { counters, policy, output, table } = this.context;
    if (icmp.type !== echoRequestType(ip.version) || icmp.code !== 0) {
      counters.icmpUnsupported++;
      return undefined;
    }
    if (!icmp.verifyChecksum(ip)) {
      counters.badChecksum++;
      return undefined;
    }
    const key = echoKey(ip, icmp.identifier);
    const existing = this.flows.get(key);
    if (existing) return existing;
    if (!policy.check(ip.dst).allowed) {
      counters.refused++;
      output.send(adminProhibited(ip));
      return undefined;
    }
    if (this.flows.size >= this.limits.maxFlows) {
      counters.icmpOverLimit++;
      return undefined;
    }
    const destination = formatAddress(ip.dst);
    const row = table.add({
      protocol: "icmp",
      family: ip.version,
      remote: `${formatAddress(ip.src)} id ${icmp.identifier}`,
      destination,
      name: table.nameOf(destination),
      state: "ACTIVE",
    });
    const flow: EchoFlow = {
      key,
      row,
      family: ip.version,
      remote: Buffer.from(ip.src),
      destination: Buffer.from(ip.dst),
      identifier: icmp.identifier,
      lastActivity: table.now(),
      ended: false,
    };
    this.flows.set(key, flow);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
    return flow;
  }

  /** A request went out towards the destination (`bytes`: the ICMP message). */
  countUp(flow: EchoFlow, bytes: number): void {
    flow.row.upPackets++;
    flow.row.upBytes += bytes;
    this.touch(flow);
  }

  /** A reply went back to the remote. */
  countDown(flow: EchoFlow, bytes: number): void {
    flow.row.downPackets++;
    flow.row.downBytes += bytes;
    this.touch(flow);
  }

  end(flow: EchoFlow, reason: string): void {
    if (flow.ended) return;
    flow.ended = true;
    this.flows.delete(flow.key);
    this.context.table.close(flow.row, reason);
    if (this.flows.size === 0) this.becameEmpty();
  }

  /** Ends the flows to an address `matches`; the next request meets the policy again. Returns how many. */
  endFlowsTo(matches: (address: Uint8Array) => boolean, reason: string): number {
    let count = 0;
    for (const flow of [...this.flows.values()]) {
      if (!matches(flow.destination)) continue;
      this.end(flow, reason);
      count++;
    }
    return count;
  }

  endAll(reason: string): void {
    for (const flow of [...this.flows.values()]) this.end(flow, reason);
  }

  /** Ends idle flows; runs on a timer, public for tests with a fake clock. */
  sweep(now = this.context.table.now()): void {
    for (const flow of [...this.flows.values()]) {
      if (now - flow.lastActivity >= this.limits.idleTimeoutMs) this.end(flow, "idle timeout");
    }
    this.hooks.onSweep?.(now);
  }

  private touch(flow: EchoFlow): void {
    const now = this.context.table.now();
    flow.lastActivity = now;
    flow.row.lastActivityAt = now;
    this.context.table.markDirty(flow.row);
  }

  private becameEmpty(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.hooks.onEmpty?.();
  }
}
