import { createSocket, type Socket } from "node:dgram";
import type { FlowRow } from "../../../shared/flow-row.js";
import {
  formatAddress,
  IpProtocol,
  udpPacketLength,
  writeUdpPacket,
  type IpView,
  type UdpSpec,
  type UdpView,
} from "../packet/index.js";
import type { EgressPolicy } from "./egress-policy.js";
import { flowKey } from "./flow-key.js";
import type { FlowTable } from "./flow-table.js";
import type { NatCounters } from "./nat-counters.js";
import type { PacketOutput } from "./packet-output.js";
import { hostPort } from "./format.js";
import { adminProhibited, hostUnreachable, portUnreachable, socketErrorRefusal } from "./refusal.js";

export interface UdpLimits {
  maxFlows: number;
  idleTimeoutMs: number;
  /** DNS and other one-shot exchanges on port 53 end sooner. */
  dnsIdleTimeoutMs: number;
  /** Datagrams waiting in a flow's socket before more are dropped (a flood cannot queue unbounded). */
  maxQueuedSends: number;
}

export const DEFAULT_UDP_LIMITS: UdpLimits = {
  maxFlows: 4096,
  idleTimeoutMs: 60_000,
  dnsIdleTimeoutMs: 10_000,
  maxQueuedSends: 256,
};

export interface UdpForwarderOptions {
  output: PacketOutput;
  table: FlowTable;
  policy: Pick<EgressPolicy, "check">;
  counters: NatCounters;
  limits: UdpLimits;
  /** A socket callback threw (a bug): counted and logged by the engine, never thrown. */
  internalError: (error: unknown) => void;
}

interface UdpFlow {
  key: string;
  socket: Socket;
  row: FlowRow;
  /** Addresses of replies: the destination answers as itself, to the remote's port. */
  reply: { src: Buffer; dst: Buffer; srcPort: number; dstPort: number };
  /** A copy of the first packet, quoted if the destination turns out to be closed. */
  firstPacket: Buffer;
  /** Datagrams that arrived before the socket finished connecting. */
  pending: Buffer[] | undefined;
  lastActivity: number;
  idleTimeoutMs: number;
}

const SWEEP_MS = 1_000;
const MAX_PENDING = 16;

/** One connected datagram socket per flow (endpoint-dependent mapping, like a typical NAT). */
export class UdpForwarder {
  private readonly flows = new Map<string, UdpFlow>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: UdpForwarderOptions) {}

  get flowCount(): number {
    return this.flows.size;
  }

  handle(ip: IpView, udp: UdpView): void {
    const key = flowKey(IpProtocol.UDP, ip, udp.buf);
    let flow = this.flows.get(key);
    if (!flow) {
      flow = this.open(key, ip, udp);
      if (!flow) return;
    }
    const now = Date.now();
    flow.lastActivity = now;
    flow.row.lastActivityAt = now;
    flow.row.upPackets++;
    flow.row.upBytes += udp.payload.length;
    this.options.table.markDirty(flow.row);
    // The payload is a view into the link's frame; the socket's send may complete later.
    const datagram = Buffer.from(udp.payload);
    if (flow.pending) {
      if (flow.pending.length < MAX_PENDING) flow.pending.push(datagram);
      else this.options.counters.udpSendDropped++;
      return;
    }
    this.send(flow, datagram);
  }

  /** Ends the flows to an address `matches`; a later datagram meets the policy again. Returns how many. */
  endFlowsTo(matches: (address: Uint8Array) => boolean, reason: string): number {
    let count = 0;
    for (const flow of [...this.flows.values()]) {
      if (!matches(flow.reply.src)) continue;
      this.end(flow, reason);
      count++;
    }
    return count;
  }

  close(reason: string): void {
    for (const flow of [...this.flows.values()]) this.end(flow, reason);
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private open(key: string, ip: IpView, udp: UdpView): UdpFlow | undefined {
    const { counters, policy, table, limits } = this.options;
    const decision = policy.check(ip.dst);
    if (!decision.allowed) {
      counters.refused++;
      this.options.output.send(adminProhibited(ip));
      return undefined;
    }
    if (udp.dstPort === 0) {
      // Reserved: nothing listens on port 0, and a host answers it "port unreachable" as it does
      // any closed port (dgram's connect would throw). Not "prohibited": the address is allowed.
      counters.refused++;
      this.options.output.send(portUnreachable(ip));
      return undefined;
    }
    if (this.flows.size >= limits.maxFlows) {
      counters.udpOverLimit++;
      return undefined;
    }
    const destHost = formatAddress(ip.dst);
    const socket = createSocket({ type: ip.version === 4 ? "udp4" : "udp6" });
    const row = table.add({
      protocol: "udp",
      family: ip.version,
      remote: hostPort(formatAddress(ip.src), udp.srcPort),
      destination: hostPort(destHost, udp.dstPort),
      name: table.nameOf(destHost),
      state: "ACTIVE",
    });
    const flow: UdpFlow = {
      key,
      socket,
      row,
      reply: {
        src: Buffer.from(ip.dst),
        dst: Buffer.from(ip.src),
        srcPort: udp.dstPort,
        dstPort: udp.srcPort,
      },
      firstPacket: Buffer.from(ip.buf.subarray(0, Math.min(ip.buf.length, 1232))),
      pending: [],
      lastActivity: Date.now(),
      idleTimeoutMs: udp.dstPort === 53 ? limits.dnsIdleTimeoutMs : limits.idleTimeoutMs,
    };
    this.flows.set(key, flow);
    socket.on("message", (message) => this.onReply(flow, message));
    socket.on("error", (error: NodeJS.ErrnoException) => this.onError(flow, error));
    // A failed connect (EACCES for a broadcast, ENETUNREACH) is reported to this callback only,
    // not as an "error" event.
    socket.connect(udp.dstPort, destHost, (error?: NodeJS.ErrnoException) => {
      if (this.flows.get(flow.key) !== flow) return;
      if (error) {
        this.onError(flow, error);
        return;
      }
      try {
        const address = socket.address();
        row.localSocket = hostPort(address.address, address.port);
        const pending = flow.pending ?? [];
        flow.pending = undefined;
        for (const datagram of pending) this.send(flow, datagram);
      } catch (thrown) {
        this.options.internalError(thrown);
        this.end(flow, "internal error");
      }
    });
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
    return flow;
  }

  private send(flow: UdpFlow, datagram: Buffer): void {
    if (flow.socket.getSendQueueCount() >= this.options.limits.maxQueuedSends) {
      this.options.counters.udpSendDropped++;
      return;
    }
    try {
      flow.socket.send(datagram);
    } catch (error) {
      // Only a bug gets here (a closed socket, a send before connect): the flow ends, the exit stays.
      this.options.internalError(error);
      this.end(flow, "internal error");
    }
  }

  private onReply(flow: UdpFlow, message: Buffer): void {
    const now = Date.now();
    flow.lastActivity = now;
    flow.row.lastActivityAt = now;
    flow.row.downPackets++;
    flow.row.downBytes += message.length;
    this.options.table.markDirty(flow.row);
    // Built in place in the link's output buffer, from a literal: a spread of flow.reply and a
    // Buffer per datagram cost several times more.
    const { src, dst, srcPort, dstPort } = flow.reply;
    const spec: UdpSpec = { src, dst, srcPort, dstPort, payload: message };
    try {
      this.options.output.sendWith(udpPacketLength(spec), (target, offset) =>
        writeUdpPacket(target, offset, spec),
      );
    } catch (error) {
      // Thrown from a socket's event, it would stop the helper: counted and dropped instead.
      this.options.internalError(error);
    }
  }

  /**
   * The connect or a send failed. The remote hears it as the destination or a router would say it
   * (ECONNREFUSED: port unreachable; EACCES: prohibited; ENETUNREACH: no route), and the flow
   * ends; congestion loses only the datagram.
   */
  private onError(flow: UdpFlow, error: NodeJS.ErrnoException): void {
    const code = error.code ?? "EIO";
    const original = { src: flow.reply.dst, dst: flow.reply.src, buf: flow.firstPacket };
    const refusal = socketErrorRefusal(code, original);
    if (!refusal && flow.pending === undefined) {
      this.options.counters.udpSendDropped++;
      return;
    }
    this.options.output.send(refusal ?? hostUnreachable(original, false));
    this.end(flow, code === "ECONNREFUSED" ? "port unreachable" : `socket error: ${code}`);
  }

  private end(flow: UdpFlow, reason: string): void {
    if (this.flows.get(flow.key) !== flow) return;
    this.flows.delete(flow.key);
    flow.socket.close();
    this.options.table.close(flow.row, reason);
  }

  private sweep(): void {
    const now = Date.now();
    for (const flow of this.flows.values()) {
      if (now - flow.lastActivity >= flow.idleTimeoutMs) this.end(flow, "idle timeout");
    }
    if (this.flows.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
