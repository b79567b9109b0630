/**
 * A forwarded flow: the connection with the remote (connection.ts, no I/O) joined to its peer
 * (flow-peer.ts) and observed by the flow table. This is where the connection's segments become
 * packets on the link, its events reach the peer, and its state and counters reach the UI row.
 */
import type { FlowRow } from "../../../../shared/flow-row.js";
import {
  tcpPacketLength,
  writeTcpPacket,
  type PayloadWriter,
  type TcpOptions,
  type TcpSpec,
  type TcpView,
} from "../../packet/index.js";
import { hostUnreachable, socketErrorRefusal } from "../refusal.js";
import { TcpConnection, type ConnectionOutput, type PeerRelease } from "./connection.js";
import type { DialOutcome, ForwardedFlow, TcpContext } from "./context.js";
import type { DialTarget, FlowPeer, PeerOpener } from "./flow-peer.js";
import type { TcpState } from "./state.js";

export interface FlowEnds {
  family: 4 | 6;
  /** The remote program's address (our packets' destination); the flow keeps a copy. */
  remoteAddress: Buffer;
  remotePort: number;
  destAddress: Buffer;
  destPort: number;
}

export interface SynInfo {
  seq: number;
  window: number;
  options: TcpOptions;
  /** The SYN packet itself, copied: quoted in an ICMP error if the dial fails. */
  packet: Buffer;
}

export class TcpFlow implements ForwardedFlow, ConnectionOutput {
  readonly connection: TcpConnection;
  private readonly peer: FlowPeer;
  private readonly dial: DialTarget | undefined;
  private dialing = true;
  private peerEnded = false;
  /** Bytes counted against the memory budget: send and reassembly queues, the peer's backlog. */
  private buffered = 0;
  private syn: SynInfo | undefined;

  constructor(
    readonly key: string,
    private readonly ends: FlowEnds,
    syn: SynInfo,
    readonly row: FlowRow,
    private readonly context: TcpContext,
    opener: PeerOpener,
    /** Answer the SYN now and let the remote's first bytes wait for the peer (accepting-destinations.ts). */
    optimistic: boolean,
  ) {
    const now = context.now();
    this.syn = syn;
    this.dial = opener.dial;
    context.budget.addFlow();
    this.connection = new TcpConnection(
      {
        family: ends.family,
        linkMtu: context.linkMtu,
        iss: (Math.random() * 0x100000000) >>> 0,
        syn,
        limits: context.limits,
        now,
      },
      this,
    );
    this.peer = opener.open({
      ready: (connectMs) => this.peerReady(connectMs),
      failed: (code) => this.peerFailed(code),
      data: (chunk) => this.peerData(chunk),
      end: () => this.peerEnd(),
      drain: () => this.peerDrained(),
      error: (code) => this.connection.abort(`local socket error: ${code}`),
      gone: () => this.peerGone(),
    });
    if (optimistic) this.drive(() => this.connection.accept(now));
  }

  get deadline(): number {
    return this.connection.deadline;
  }

  /** The destination a socket of this computer dials; undefined for a peer in this process (the stub's). */
  get dialedAddress(): Buffer | undefined {
    return this.dial === undefined ? undefined : this.ends.destAddress;
  }

  /** Neither closed nor in TIME-WAIT: a connection that ended gracefully is not "open". */
  get isOpen(): boolean {
    const name = this.connection.stateName;
    return name !== "TIME-WAIT" && name !== "CLOSED";
  }

  /** One segment of this flow. `tcp` is a view into the link's frame, valid for the call. */
  receive(tcp: TcpView, now: number): void {
    const row = this.row;
    row.upPackets++;
    row.lastActivityAt = now;
    // Counters change on every segment; the table publishes at its own bounded rate.
    this.context.table.markDirty(row);
    this.connection.segment(tcp, now);
    this.watch();
  }

  // ---- ForwardedFlow -----------------------------------------------------------------------

  timer(now: number): void {
    this.connection.timer(now);
    this.watch();
  }

  flushAck(): void {
    this.connection.flushAck();
  }

  linkDrained(now: number): void {
    this.connection.linkDrained(now);
    this.watch();
  }

  abort(reason: string): void {
    this.connection.abort(reason);
  }

  // ---- the peer's events -------------------------------------------------------------------

  private peerReady(connectMs: number): void {
    this.endDial("connected", connectMs);
    this.drive(() => this.connection.accept(this.context.now()));
    this.row.localSocket = this.peer.localName();
  }

  private peerFailed(code: string): void {
    this.endDial("failed", NaN);
    const reason = `connect failed: ${code}`;
    if (this.connection.stateName !== "DIALING") {
      // Answered optimistically: the remote believes it is connected, so it gets a reset.
      this.connection.abort(reason);
      return;
    }
    // Refuse the way the destination did; a dial is never lost quietly: what is congestion for
    // a datagram is a failure here.
    const refused = code === "ECONNREFUSED" || code === "ECONNRESET";
    const syn = this.syn;
    if (!refused && syn) {
      const original = { src: this.ends.remoteAddress, dst: this.ends.destAddress, buf: syn.packet };
      this.context.output.send(socketErrorRefusal(code, original) ?? hostUnreachable(original, false));
    }
    this.connection.refuse(reason, refused);
  }

  private peerData(chunk: Buffer): void {
    const now = this.context.now();
    this.row.lastActivityAt = now;
    this.context.table.markDirty(this.row);
    this.connection.peerData(chunk, now);
    this.watch();
  }

  private peerEnd(): void {
    this.peerEnded = true;
    this.drive(() => this.connection.peerEnd(this.context.now()));
  }

  private peerDrained(): void {
    this.buffersChanged();
    this.connection.peerDrained();
  }

  private peerGone(): void {
    const name = this.connection.stateName;
    // Closed without an error or a FIN we have seen: treat as reset.
    if (name !== "CLOSED" && name !== "TIME-WAIT" && name !== "DIALING" && !this.peerEnded) {
      this.connection.abort("local socket closed");
    }
  }

  // ---- ConnectionOutput --------------------------------------------------------------------

  transmit(
    seq: number,
    ack: number,
    flags: number,
    window: number,
    payload: PayloadWriter | undefined,
    options: TcpOptions | undefined,
  ): void {
    this.row.downPackets++;
    const ends = this.ends;
    // Built in place in the link's output buffer: no Buffer per segment, no extra copy. A literal,
    // not a spread: V8 builds a spread about 7 µs slower, on every segment.
    const spec: TcpSpec = {
      src: ends.destAddress,
      dst: ends.remoteAddress,
      srcPort: ends.destPort,
      dstPort: ends.remotePort,
      seq,
      ack,
      flags,
      window,
      payload,
      options,
    };
    this.context.output.sendWith(tcpPacketLength(spec), (target, offset) =>
      writeTcpPacket(target, offset, spec),
    );
  }

  linkWritable(): boolean {
    return this.context.output.writable;
  }

  linkBlocked(): void {
    this.context.waitForDrain(this);
  }

  bufferCap(): number {
    return this.context.budget.share(this.context.limits.perFlowBufferBytes);
  }

  peerBuffered(): number {
    return this.peer.buffered;
  }

  data(data: Buffer): void {
    this.peer.write(data);
    this.row.upBytes += data.length;
  }

  remoteFin(): void {
    this.peer.end();
  }

  ackOwed(delayable: boolean): void {
    this.context.ackLater(this, delayable);
  }

  sendFull(): void {
    this.peer.pause();
  }

  sendRoom(): void {
    this.peer.resume();
  }

  buffersChanged(): void {
    const now = this.connection.bufferedBytes + this.peer.buffered;
    this.context.budget.adjust(now - this.buffered);
    this.buffered = now;
  }

  sent(bytes: number): void {
    this.row.downBytes += bytes;
  }

  stateChanged(state: TcpState): void {
    this.row.state = state.name;
    this.context.table.markDirty(this.row);
    if (state.name === "SYN-RECEIVED") this.syn = undefined;
    // Both FINs are through: the peer ends once the remote's last bytes are passed on.
    if (state.name === "TIME-WAIT") this.peer.release("graceful");
  }

  closed(reason: string, release: PeerRelease): void {
    this.endDial("abandoned", NaN);
    this.peer.release(release);
    this.context.budget.adjust(-this.buffered);
    this.buffered = 0;
    this.context.budget.removeFlow();
    this.context.table.close(this.row, reason);
    this.context.closed(this);
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Runs one input of the connection, then hands its deadline to the forwarder's ticker. */
  private drive(input: () => void): void {
    input();
    this.watch();
  }

  private watch(): void {
    if (this.connection.deadline !== 0) this.context.watchTimers(this);
  }

  private endDial(outcome: DialOutcome, connectMs: number): void {
    if (!this.dialing) return;
    this.dialing = false;
    this.context.dialFinished(outcome, this.dial, connectMs);
  }
}
