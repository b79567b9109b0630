/**
 * The send side of a connection (RFC 9293 §3.3.1 "send sequence space"): the bytes the peer
 * handed over, kept until acknowledged, sent as the remote's window allows, and sent again when
 * lost. The remote kernel does congestion control; this side recovers losses: a retransmission
 * timer with exponential backoff (RFC 6298), fast retransmit after three duplicate ACKs (RFC
 * 5681), then every hole the remote's SACK blocks show (scoreboard.ts), or without them the hole
 * each partial ACK shows (NewReno, RFC 6582). A timeout resends everything unacknowledged.
 */
import { TcpFlag, type PayloadWriter, type SackBlock } from "../../packet/index.js";
import { ByteQueue } from "./byte-queue.js";
import { RttEstimator } from "./rtt.js";
import { Scoreboard } from "./scoreboard.js";
import { seqAdd, seqDiff, seqGeq, seqGt, seqLeq, seqLt } from "./seq.js";

/** Duplicate ACKs that trigger a fast retransmit (RFC 5681). */
const DUP_ACK_THRESHOLD = 3;

/** Our FIN: not asked for, waiting behind the data, in flight, acknowledged. */
export type LocalFin = "none" | "queued" | "sent" | "acked";

/** How the send side puts segments on the way; the connection fills in ACK and window. */
export interface SendHooks {
  emit(seq: number, flags: number, payload?: PayloadWriter): void;
  /** `bytes` left for the first time (not a retransmission). */
  newBytes(bytes: number): void;
}

/** What an acknowledgment did: moved sndUna, repeated it, or neither. */
export type Acked = "advanced" | "duplicate" | "other";

export class SendSide {
  /** From sndUna on (from sndUna + 1 before the SYN is acknowledged); owns its chunks. */
  readonly queue = new ByteQueue();
  readonly rtt = new RttEstimator();
  una: number;
  nxt: number;
  /** The remote's window in bytes (already scaled). */
  wnd: number;
  /** Highest sequence number ever sent: bytes below it are retransmissions, not new traffic. */
  max: number;
  fin: LocalFin = "none";
  /** Sequence number of our FIN, once sent (it stays put across retransmissions). */
  private finSeq: number | undefined;
  /** After a fast retransmit, the sndNxt of that moment: partial ACKs below it mean more holes. */
  private recoverUntil: number | undefined;
  /** In recovery, everything below this was resent already (a lost resend waits for the RTO). */
  private resentTo = 0;
  private readonly scoreboard = new Scoreboard();
  private dupAcks = 0;
  /** Timeouts in a row without progress. */
  retransmissions = 0;
  private timed: { seq: number; sentAt: number } | undefined;
  /** When the retransmission (or persist) timer fires; 0 when it is not running. */
  rtoAt = 0;

  constructor(
    readonly iss: number,
    /** The SYN's window: never scaled. */
    window: number,
    private readonly mss: number,
    private readonly hooks: SendHooks,
  ) {
    this.una = iss;
    this.nxt = iss;
    this.max = iss;
    this.wnd = window;
  }

  /** Bytes sent and not yet acknowledged (SYN and FIN count one each). */
  get inFlight(): number {
    return seqDiff(this.nxt, this.una);
  }

  /** Our SYN left (again): it takes sequence number `iss`. */
  synSent(now: number): void {
    this.nxt = seqAdd(this.iss, 1);
    this.max = this.nxt;
    this.armRto(now);
  }

  /** The remote acknowledged our SYN with `ack`. */
  synAcked(ack: number): void {
    this.una = ack;
    this.rtoAt = 0;
    this.retransmissions = 0;
  }

  /** Data from the peer; the queue owns `chunk` from here. */
  push(chunk: Buffer): void {
    this.queue.push(chunk);
  }

  /** The peer has no more data: a FIN follows the queue. */
  close(): void {
    if (this.fin === "none") this.fin = "queued";
  }

  /**
   * One acknowledgment with the remote's window (bytes); `bare`: no payload and no FIN; `sack`:
   * its SACK blocks, if any.
   */
  acknowledge(ack: number, window: number, bare: boolean, now: number, sack?: readonly SackBlock[]): Acked {
    const learnt = sack !== undefined && this.scoreboard.add(sack, this.una, this.max);
    if (seqGt(ack, this.una)) {
      // After a go-back-N rewind the remote may acknowledge data sent before it.
      if (seqGt(ack, this.nxt)) this.nxt = ack;
      let dataAcked = seqDiff(ack, this.una);
      if (this.finSeq !== undefined && seqGt(ack, this.finSeq) && this.fin !== "acked") {
        dataAcked--; // the FIN's sequence number
        this.fin = "acked";
      }
      this.queue.consume(dataAcked);
      this.una = ack;
      this.scoreboard.acknowledged(ack);
      this.dupAcks = 0;
      if (this.recoverUntil !== undefined) {
        // A partial ACK (RFC 6582): the next hole is at sndUna; fill it at once.
        if (seqLt(ack, this.recoverUntil)) this.resendHoles();
        else this.recoverUntil = undefined;
      }
      this.retransmissions = 0;
      this.rtt.progressed();
      if (this.timed && seqLeq(this.timed.seq, ack)) {
        this.rtt.sample(now - this.timed.sentAt);
        this.timed = undefined;
      }
      this.rtoAt = this.una === this.nxt ? 0 : now + this.rtt.rto;
      this.wnd = window;
      return "advanced";
    }
    if (ack !== this.una) return "other";
    if (this.inFlight > 0 && bare && window === this.wnd) {
      if (++this.dupAcks === DUP_ACK_THRESHOLD && this.recoverUntil === undefined) {
        this.recoverUntil = this.nxt;
        this.resentTo = this.una;
        this.resendHoles();
      } else if (learnt && this.recoverUntil !== undefined) {
        this.resendHoles(); // the remote reports more beyond a new hole
      }
    }
    this.wnd = window;
    return "duplicate";
  }

  /**
   * Sends what the remote's window allows, then the FIN if it is due. False when `writable`
   * said the link is full first: call again once it drains.
   */
  transmit(writable: () => boolean, now: number): boolean {
    for (;;) {
      const inflight = this.inFlight;
      const unsent = this.queue.length - inflight;
      const room = this.wnd - inflight;
      if (unsent > 0 && room > 0) {
        if (!writable()) return false;
        const length = Math.min(this.mss, unsent, room);
        const last = length === unsent;
        const fin = last && this.fin === "queued";
        const flags = TcpFlag.ACK | (last ? TcpFlag.PSH : 0) | (fin ? TcpFlag.FIN : 0);
        this.hooks.emit(this.nxt, flags, this.queued(inflight, length));
        // Karn: only new data is timed; an ACK for resent bytes may answer either copy.
        if (!this.timed && seqGeq(this.nxt, this.max))
          this.timed = { seq: seqAdd(this.nxt, length), sentAt: now };
        this.nxt = seqAdd(this.nxt, length);
        if (seqGt(this.nxt, this.max)) {
          this.hooks.newBytes(seqDiff(this.nxt, this.max));
          this.max = this.nxt;
        }
        if (fin) this.finSent();
        if (this.rtoAt === 0) this.armRto(now);
        continue;
      }
      if (unsent === 0 && this.fin === "queued") {
        if (!writable()) return false;
        this.hooks.emit(this.nxt, TcpFlag.ACK | TcpFlag.FIN);
        this.finSent();
        if (this.rtoAt === 0) this.armRto(now);
      }
      return true;
    }
  }

  /**
   * The retransmission timer fired with data (or a FIN) in flight: everything unacknowledged is
   * presumed lost (a TUN queue overflow drops a burst, not one packet), so sending rewinds to
   * the oldest unacknowledged byte. The caller then transmits and re-arms.
   */
  rewind(): void {
    this.timed = undefined; // Karn: no RTT sample from retransmitted data
    this.recoverUntil = undefined;
    this.scoreboard.clear(); // the remote may have dropped what it reported (RFC 2018 §8)
    this.dupAcks = 0;
    this.nxt = this.una;
    if (this.fin === "sent") this.fin = "queued";
    this.rtoAt = 0;
  }

  /** Nothing in flight, data waiting and a zero window: the persist timer must run. */
  get persisting(): boolean {
    return this.inFlight === 0 && this.queue.length > 0 && this.wnd === 0;
  }

  armRto(now: number): void {
    this.rtoAt = now + this.rtt.rto;
  }

  clear(): void {
    this.queue.clear();
    this.scoreboard.clear();
    this.rtoAt = 0;
  }

  private finSent(): void {
    this.finSeq ??= this.nxt;
    this.nxt = seqAdd(this.nxt, 1);
    if (seqGt(this.nxt, this.max)) this.max = this.nxt;
    this.fin = "sent";
  }

  /**
   * In recovery: resends each hole below the highest byte the remote reported holding, once; with
   * no SACK blocks beyond sndUna, the first unacknowledged segment (NewReno).
   */
  private resendHoles(): void {
    const highest = this.scoreboard.highest;
    const from = seqGt(this.resentTo, this.una) ? this.resentTo : this.una;
    if (highest === undefined) {
      if (from !== this.una) return; // resent already
      this.retransmitFirst();
      this.resentTo = seqAdd(this.una, this.mss);
      return;
    }
    this.timed = undefined; // Karn: no RTT sample from retransmitted data
    this.scoreboard.forEachHole(from, this.resendRange);
    if (seqGt(highest, from)) this.resentTo = highest;
  }

  /** Resends [left, right) of the queue in segments (never the FIN: a hole lies below a SACK). */
  private readonly resendRange = (left: number, right: number): void => {
    let seq = left;
    while (seqLt(seq, right)) {
      const length = Math.min(this.mss, seqDiff(right, seq));
      this.hooks.emit(seq, TcpFlag.ACK, this.queued(seqDiff(seq, this.una), length));
      seq = seqAdd(seq, length);
    }
  };

  /** Resends the first unacknowledged segment (and the FIN when it follows). */
  private retransmitFirst(): void {
    const inflight = this.inFlight;
    // With the FIN in flight, the last data byte precedes it.
    const dataInflight = this.fin === "sent" ? inflight - 1 : inflight;
    this.timed = undefined; // Karn: no RTT sample from retransmitted data
    if (dataInflight > 0) {
      const length = Math.min(this.mss, dataInflight);
      const finToo = this.fin === "sent" && length === dataInflight;
      this.hooks.emit(
        this.una,
        TcpFlag.ACK | TcpFlag.PSH | (finToo ? TcpFlag.FIN : 0),
        this.queued(0, length),
      );
    } else if (this.fin === "sent") {
      this.hooks.emit(this.una, TcpFlag.ACK | TcpFlag.FIN);
    }
  }

  /** `length` bytes of the queue from `offset`, copied into the packet when it is built. */
  private queued(offset: number, length: number): PayloadWriter {
    const queue = this.queue;
    return { length, writeTo: (target, at) => queue.copyTo(target, at, offset, length) };
  }
}
