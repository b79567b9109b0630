/**
 * Drives one TcpConnection the way smoltcp tests its socket: segments in, segments out, a fake
 * clock. Segments cross as real packets (built, checksummed, parsed again), so option encoding
 * is exercised too. Test support only.
 */
import {
  buildTcpPacket,
  parseAddress,
  parseIp,
  tcpPacketLength,
  TcpFlag,
  TcpView,
  writeTcpPacket,
  type PayloadWriter,
  type TcpOptions,
} from "../../packet/index.js";
import { TcpConnection, type ConnectionOutput, type PeerRelease } from "./connection.js";
import type { ConnectionLimits } from "./limits.js";
import type { TcpState } from "./state.js";

export interface Sent {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payload: Buffer;
  options: TcpOptions;
}

export interface HarnessSetup {
  iss?: number;
  /** The remote's initial sequence number. */
  irs?: number;
  synWindow?: number;
  synOptions?: TcpOptions;
  linkMtu?: number;
  family?: 4 | 6;
  /** The flow's buffer share (receive window and send queue cap). */
  bufferCap?: number;
  limits?: Partial<ConnectionLimits>;
}

export const TEST_LIMITS: ConnectionLimits = {
  idleTimeoutMs: 60_000,
  halfClosedIdleTimeoutMs: 10_000,
  timeWaitMs: 2_000,
  maxRetransmissions: 5,
};

const REMOTE = parseAddress("198.18.0.1");
const DEST = parseAddress("198.18.1.1");

export class ConnectionHarness implements ConnectionOutput {
  now = 1_000_000;
  readonly connection: TcpConnection;
  readonly iss: number;
  /** The remote's next sequence number. */
  remoteNxt: number;
  outbox: Sent[] = [];
  private readonly sentEver: Sent[] = [];
  delivered: Buffer[] = [];
  states: string[] = [];
  remoteFinSeen = false;
  acksOwed = 0;
  /** Of those, owed for in-order data only: they may wait for data to ride on. */
  delayableAcksOwed = 0;
  linkBlockedCount = 0;
  sendFullCount = 0;
  sendRoomCount = 0;
  newBytes = 0;
  closedWith: { reason: string; release: PeerRelease } | undefined;
  linkOpen = true;
  cap: number;
  /** Bytes the fake peer still holds (shrinks our window). */
  peerHeld = 0;

  constructor(setup: HarnessSetup = {}) {
    this.iss = setup.iss ?? 1000;
    const irs = setup.irs ?? 5000;
    this.remoteNxt = (irs + 1) >>> 0;
    this.cap = setup.bufferCap ?? 256 * 1024;
    this.connection = new TcpConnection(
      {
        family: setup.family ?? 4,
        linkMtu: setup.linkMtu ?? 1500,
        iss: this.iss,
        syn: {
          seq: irs,
          window: setup.synWindow ?? 65535,
          options: setup.synOptions ?? { mss: 1460, windowScale: 7, sackPermitted: true },
        },
        limits: { ...TEST_LIMITS, ...setup.limits },
        now: this.now,
      },
      this,
    );
  }

  /** Accepts and completes the handshake; returns the SYN-ACK. */
  establish(ackWindow = 65535): Sent {
    this.connection.accept(this.now);
    const synAck = this.takeOne();
    this.segment({ ack: (synAck.seq + 1) >>> 0, window: ackWindow });
    return synAck;
  }

  /** One segment from the remote; seq defaults to remoteNxt, which advances past what is sent. */
  segment(spec: {
    seq?: number;
    ack?: number;
    flags?: number;
    window?: number;
    payload?: Buffer | string;
    options?: TcpOptions;
  }): void {
    const payload = typeof spec.payload === "string" ? Buffer.from(spec.payload) : spec.payload;
    const flags = spec.flags ?? TcpFlag.ACK;
    const seq = spec.seq ?? this.remoteNxt;
    const packet = buildTcpPacket({
      src: REMOTE,
      dst: DEST,
      srcPort: 40000,
      dstPort: 80,
      seq,
      ack: spec.ack ?? this.ourNxt(),
      flags,
      window: spec.window ?? 65535,
      payload,
      options: spec.options,
    });
    if (spec.seq === undefined) {
      const length = (payload?.length ?? 0) + (flags & TcpFlag.FIN ? 1 : 0) + (flags & TcpFlag.SYN ? 1 : 0);
      this.remoteNxt = (this.remoteNxt + length) >>> 0;
    }
    this.connection.segment(TcpView.parse(parseIp(packet).payload), this.now);
  }

  /** The sequence number after everything we sent (a full acknowledgment). */
  ourNxt(): number {
    let next = (this.iss + 1) >>> 0;
    for (const s of this.sentEver) {
      const end =
        (s.seq + s.payload.length + (s.flags & TcpFlag.FIN ? 1 : 0) + (s.flags & TcpFlag.SYN ? 1 : 0)) >>> 0;
      if (((end - next) | 0) > 0) next = end;
    }
    return next;
  }

  /** Moves the clock; runs the connection's timer if its deadline has passed. */
  advance(ms: number): void {
    this.now += ms;
    const deadline = this.connection.deadline;
    if (deadline !== 0 && deadline <= this.now) this.connection.timer(this.now);
  }

  /** Moves the clock to the connection's deadline and runs the timer. */
  fireTimer(): number {
    const deadline = this.connection.deadline;
    if (deadline === 0) throw new Error("no deadline");
    const waited = deadline - this.now;
    this.now = deadline;
    this.connection.timer(this.now);
    return waited;
  }

  /** The batch ended: the owed ACK leaves. */
  flush(): void {
    this.connection.flushAck();
  }

  take(): Sent[] {
    const sent = this.outbox;
    this.outbox = [];
    return sent;
  }

  takeOne(): Sent {
    const sent = this.take();
    if (sent.length !== 1) throw new Error(`expected one segment, got ${sent.length}`);
    return sent[0]!;
  }

  deliveredText(): string {
    return Buffer.concat(this.delivered).toString();
  }

  get stateName(): string {
    return this.connection.stateName;
  }

  // ---- ConnectionOutput ----

  transmit(
    seq: number,
    ack: number,
    flags: number,
    window: number,
    payload: PayloadWriter | undefined,
    options: TcpOptions | undefined,
  ): void {
    const spec = {
      src: DEST,
      dst: REMOTE,
      srcPort: 80,
      dstPort: 40000,
      seq,
      ack,
      flags,
      window,
      payload,
      options,
    };
    const packet = Buffer.alloc(tcpPacketLength(spec));
    writeTcpPacket(packet, 0, spec);
    const tcp = TcpView.parse(parseIp(packet).payload);
    const sent = {
      seq: tcp.seq,
      ack: tcp.ack,
      flags: tcp.flags,
      window: tcp.window,
      payload: Buffer.from(tcp.payload),
      options: tcp.options(),
    };
    this.outbox.push(sent);
    this.sentEver.push(sent);
  }

  linkWritable(): boolean {
    return this.linkOpen;
  }

  linkBlocked(): void {
    this.linkBlockedCount++;
  }

  bufferCap(): number {
    return this.cap;
  }

  peerBuffered(): number {
    return this.peerHeld;
  }

  data(data: Buffer): void {
    this.delivered.push(data);
  }

  remoteFin(): void {
    this.remoteFinSeen = true;
  }

  ackOwed(delayable: boolean): void {
    this.acksOwed++;
    if (delayable) this.delayableAcksOwed++;
  }

  sendFull(): void {
    this.sendFullCount++;
  }

  sendRoom(): void {
    this.sendRoomCount++;
  }

  buffersChanged(): void {
    // The budget is the flow's business; the connection's own bytes are read from bufferedBytes.
  }

  sent(bytes: number): void {
    this.newBytes += bytes;
  }

  stateChanged(state: TcpState): void {
    this.states.push(state.name);
  }

  closed(reason: string, release: PeerRelease): void {
    this.closedWith = { reason, release };
  }
}
