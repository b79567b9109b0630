/**
 * One TCP connection from the remote, terminated here, as a state machine without I/O
 * (smoltcp's socket, gVisor's transport/tcp): segments and the peer's data go in with the time
 * they happened; segments and events come out through `ConnectionOutput`, synchronously, during
 * the call. It owns no socket, timer or clock: the caller passes `now` (ms) and calls `timer(now)`
 * once `deadline` has passed. The remote kernel is the other end and does congestion control;
 * this side keeps flow control honest (the window advertised is the room the peer has left) and
 * keeps unacknowledged data for retransmission (the remote's TUN queue can drop).
 *
 * Split by concern: handshake.ts (options), send.ts (queue, retransmission, SACK scoreboard),
 * receive.ts (reassembly, window), timers.ts (deadlines), teardown.ts (FIN states), state.ts.
 *
 * Not covered: timestamps (RFC 7323 §3, never negotiated), urgent data (read as ordinary data),
 * a congestion window of our own (the remote kernel's receive window paces us), delayed ACKs
 * (the caller batches them per burst of segments), opening connections (only the remote does).
 */
import {
  TCP_HEADER_LENGTH,
  TcpFlag,
  type PayloadWriter,
  type SackBlock,
  type TcpOptions,
  type TcpView,
} from "../../packet/index.js";
import { negotiate, synAckOptions, type Negotiated } from "./handshake.js";
import type { ConnectionLimits } from "./limits.js";
import { ReceiveSide } from "./receive.js";
import { SendSide } from "./send.js";
import { seqAdd, seqGt, seqLt } from "./seq.js";
import {
  closed,
  DIALING,
  ESTABLISHED,
  SYN_RECEIVED,
  timeWait,
  type TcpState,
  type TcpStateName,
} from "./state.js";
import { afterFinAcked, afterFinReceived, afterFinSent, type Teardown } from "./teardown.js";
import { idleLimit, nextDeadline } from "./timers.js";

/** How the peer is let go when the connection ends. */
export type PeerRelease =
  /** Both FINs went through: the peer ends once its queued bytes are passed on. */
  | "graceful"
  /** Reset (by us, or by the remote): the peer is reset too. */
  | "reset"
  /** Dropped without a word: a dial that never completed, an idle flow already reset. */
  | "drop";

/**
 * What a connection emits, and the little it asks of its surroundings. Called synchronously
 * from inside the connection's methods; none of them may call back into the connection.
 */
export interface ConnectionOutput {
  /**
   * A segment towards the remote. `payload` is only valid during the call (copy it into the
   * packet); `options` likewise.
   */
  transmit(
    seq: number,
    ack: number,
    flags: number,
    window: number,
    payload: PayloadWriter | undefined,
    options: TcpOptions | undefined,
  ): void;
  /** Whether the link takes another segment now; when not, `linkBlocked` follows. */
  linkWritable(): boolean;
  /** The link is full with segments still to send: call `linkDrained` when it drains. */
  linkBlocked(): void;
  /** The most bytes the flow may buffer each way now (its share of the memory budget). */
  bufferCap(): number;
  /** Bytes the peer was given and has not passed on: they shrink the window we advertise. */
  peerBuffered(): number;
  /** In-order bytes from the remote for the peer, which owns `data` from here. */
  data(data: Buffer): void;
  /** The remote sent its FIN: the peer gets no more data (half-close). */
  remoteFin(): void;
  /**
   * An ACK is owed: call `flushAck` once the current batch of segments is processed, or, when
   * `delayable`, within ACK_DELAY_MS (RFC 9293 §3.8.6.3: a reply from the destination in the
   * meantime carries it, one segment instead of two).
   */
  ackOwed(delayable: boolean): void;
  /** The send queue is full: stop reading the peer until `sendRoom`. */
  sendFull(): void;
  sendRoom(): void;
  /** The bytes buffered here (send queue, reassembly) changed. */
  buffersChanged(): void;
  /** `bytes` of the peer's data went to the remote for the first time. */
  sent(bytes: number): void;
  stateChanged(state: TcpState): void;
  /** The connection is over (state CLOSED); `release` says how to let the peer go. */
  closed(reason: string, release: PeerRelease): void;
}

export interface ConnectionSetup {
  family: 4 | 6;
  linkMtu: number;
  /** Our initial sequence number: random in production, chosen in tests. */
  iss: number;
  /** The remote's SYN. */
  syn: { seq: number; window: number; options: TcpOptions };
  limits: ConnectionLimits;
  now: number;
}

/** The SACK blocks of a segment; read only when it has options (rare: they come with loss). */
function sackBlocksOf(tcp: TcpView): readonly SackBlock[] | undefined {
  if (tcp.headerLength === TCP_HEADER_LENGTH) return undefined;
  try {
    return tcp.options().sackBlocks;
  } catch {
    return undefined; // malformed options: the ACK still counts, its blocks do not
  }
}

export class TcpConnection {
  /** Earliest deadline among RTO, persist, idle and TIME-WAIT; 0 when none. */
  deadline = 0;
  private current: TcpState = DIALING;
  readonly negotiated: Negotiated;
  private readonly send: SendSide;
  private readonly receive: ReceiveSide;
  private readonly limits: ConnectionLimits;
  private lastActivity: number;
  private acking = false;
  /** The ACK owed may wait for data to ride on (see ackOwed). */
  private ackDelayed = false;
  /** In-order bytes received since our last ACK went out: two full segments are ACKed at once. */
  private bytesSinceAck = 0;
  private readonly deliver: (data: Buffer) => void;
  private readonly writable: () => boolean;

  constructor(
    setup: ConnectionSetup,
    private readonly out: ConnectionOutput,
  ) {
    this.negotiated = negotiate(setup.family, setup.linkMtu, setup.syn.options);
    this.limits = setup.limits;
    this.lastActivity = setup.now;
    this.receive = new ReceiveSide(setup.syn.seq, this.negotiated.receiveWindowShift);
    this.send = new SendSide(setup.iss, setup.syn.window, this.negotiated.sendMss, {
      emit: (seq, flags, payload) => this.emit(seq, flags, payload),
      newBytes: (bytes) => out.sent(bytes),
    });
    this.deliver = (data) => out.data(data);
    this.writable = () => out.linkWritable();
  }

  get state(): TcpState {
    return this.current;
  }

  get stateName(): TcpStateName {
    return this.current.name;
  }

  /** Bytes held here: the send queue and the reassembly queue. */
  get bufferedBytes(): number {
    return this.send.queue.length + this.receive.heldBytes;
  }

  // ---- handshake ---------------------------------------------------------------------------

  /** The peer is ready (or will be: an optimistic handshake): answer the held SYN. */
  accept(now: number): void {
    if (this.current !== DIALING) return;
    this.setState(SYN_RECEIVED);
    this.sendSynAck(now);
    this.schedule(now);
  }

  /**
   * The peer could not be reached while the SYN was held: `withReset` refuses it with an RST,
   * as the destination did; otherwise the caller answers (an ICMP error) and this only closes.
   */
  refuse(reason: string, withReset: boolean): void {
    if (this.current !== DIALING) return;
    if (withReset) this.out.transmit(0, this.receive.nxt, TcpFlag.RST | TcpFlag.ACK, 0, undefined, undefined);
    this.finish(reason, "drop");
  }

  private sendSynAck(now: number): void {
    this.send.synSent(now);
    this.emit(this.send.iss, TcpFlag.SYN | TcpFlag.ACK, undefined, synAckOptions(this.negotiated));
  }

  // ---- segments from the remote ------------------------------------------------------------

  /** One segment of this connection. `tcp` is a view into the link's frame, valid for the call. */
  segment(tcp: TcpView, now: number): void {
    this.lastActivity = now;
    const flags = tcp.flags;
    const seq = tcp.seq;
    const state = this.current;
    if (state.name === "CLOSED") return;
    if (state.name === "DIALING") {
      // Retransmitted SYNs while the peer gets ready are absorbed; anything else waits too.
      if (flags & TcpFlag.RST) this.finish("reset by remote while connecting", "drop");
      return;
    }
    if (state.name === "TIME-WAIT") {
      if (flags & TcpFlag.FIN) this.sendAck(false); // our last ACK was lost
      return;
    }
    if (flags & TcpFlag.RST) {
      if (this.receive.inWindow(seq)) this.finish("reset by remote", "reset");
      return;
    }
    if (flags & TcpFlag.SYN) {
      // A retransmitted SYN: our SYN-ACK was lost. Anything else is answered with an ACK.
      if (state === SYN_RECEIVED && seq === seqAdd(this.receive.nxt, -1)) this.sendSynAck(now);
      else this.oweAck();
      return;
    }
    if (!(flags & TcpFlag.ACK)) return;
    if (!this.acknowledge(tcp, now)) return;
    const payload = tcp.payload;
    if (payload.length > 0) this.receiveData(seq, payload);
    if (flags & TcpFlag.FIN) this.receiveFin(seqAdd(seq, payload.length), now);
  }

  /** Returns false when the segment must be dropped. */
  private acknowledge(tcp: TcpView, now: number): boolean {
    const send = this.send;
    const ack = tcp.ack;
    if (seqGt(ack, send.max)) {
      this.oweAck(); // acknowledges something never sent
      return false;
    }
    if (this.current === SYN_RECEIVED) {
      if (seqLt(ack, send.nxt)) return false;
      send.synAcked(ack);
      this.setState(ESTABLISHED);
    }
    const window = tcp.window * 2 ** this.negotiated.sendWindowShift;
    const bare = tcp.payload.length === 0 && !tcp.fin;
    const sack = this.negotiated.sackPermitted ? sackBlocksOf(tcp) : undefined;
    if (send.acknowledge(ack, window, bare, now, sack) === "advanced") {
      this.out.buffersChanged();
      if (send.queue.length < this.out.bufferCap()) this.out.sendRoom();
      if (send.fin === "acked" && this.teardown(afterFinAcked(this.current), now)) return false;
    }
    this.transmit(now);
    this.schedule(now);
    return true;
  }

  private receiveData(seq: number, payload: Buffer): void {
    if (this.receive.finReceived) return;
    switch (this.receive.accept(seq, payload, this.deliver)) {
      case "old":
      case "outside-window": // a zero-window probe: answered with our window
        this.oweAck();
        return;
      case "out-of-order":
        // An earlier segment was dropped on the way. Answer at once with a duplicate ACK
        // carrying SACK blocks, so the remote resends just the hole.
        this.sendAck(true);
        return;
      case "in-order":
        this.out.buffersChanged();
        if (this.receive.hasHoles) {
          this.sendAck(true);
          return;
        }
        // RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: at least every second full-sized segment at once.
        this.bytesSinceAck += payload.length;
        this.oweAck(this.bytesSinceAck < 2 * this.negotiated.announcedMss);
    }
  }

  private receiveFin(finSeq: number, now: number): void {
    this.oweAck();
    if (!this.receive.acceptFin(finSeq)) return;
    this.out.remoteFin();
    this.teardown(afterFinReceived(this.current), now);
    this.schedule(now); // half-closed: a shorter idle limit from here
  }

  // ---- the peer's side ---------------------------------------------------------------------

  /** Data from the peer; the connection owns `chunk` until the remote acknowledges it. */
  peerData(chunk: Buffer, now: number): void {
    if (this.current.name === "CLOSED") return;
    this.send.push(chunk);
    this.lastActivity = now;
    if (this.send.queue.length >= this.out.bufferCap()) this.out.sendFull();
    this.out.buffersChanged();
    this.transmit(now);
    this.schedule(now);
  }

  /** The peer has no more data: our FIN follows what is queued. */
  peerEnd(now: number): void {
    if (this.send.fin !== "none" || this.current.name === "CLOSED") return;
    this.send.close();
    this.transmit(now);
    this.schedule(now);
  }

  /**
   * The peer passed bytes on: the window may have reopened. A window that had closed to less
   * than a segment is announced once a segment fits again (silly-window avoidance, RFC 9293
   * §3.8.6.2.2).
   */
  peerDrained(): void {
    const mss = this.negotiated.announcedMss;
    if (this.receive.lastAdvertised < mss && this.receiveRoom() >= mss) this.oweAck();
  }

  /** The link drained after `linkBlocked`: carry on sending. */
  linkDrained(now: number): void {
    this.transmit(now);
    this.schedule(now);
  }

  /** Sends the ACK owed since `ackOwed`, if any. */
  flushAck(): void {
    if (!this.acking) return;
    this.sendAck(this.receive.hasHoles);
  }

  // ---- timers ------------------------------------------------------------------------------

  /** Runs what is due at `now`: TIME-WAIT's end, a retransmission or probe, the idle limit. */
  timer(now: number): void {
    const state = this.current;
    if (state.name === "CLOSED") return;
    if (state.name === "TIME-WAIT") {
      if (now >= state.until) this.finish("closed", "graceful");
      else this.schedule(now);
      return;
    }
    const send = this.send;
    if (send.rtoAt !== 0 && now >= send.rtoAt) {
      if (++send.retransmissions > this.limits.maxRetransmissions) {
        this.abort("retransmission limit reached: the remote stopped acknowledging");
        return;
      }
      send.rtt.timedOut();
      if (send.persisting) {
        // Zero-window probe: an old sequence number makes the remote answer with its window.
        this.out.transmit(
          seqAdd(send.una, -1),
          this.receive.nxt,
          TcpFlag.ACK,
          this.advertise(),
          undefined,
          undefined,
        );
        send.armRto(now);
      } else if (state === SYN_RECEIVED) {
        this.sendSynAck(now);
      } else {
        send.rewind();
        this.transmit(now);
        if (send.rtoAt === 0 && this.current.name !== "CLOSED") send.armRto(now);
      }
      if (this.current.name === "CLOSED") return;
    }
    if (state !== DIALING && now - this.lastActivity >= idleLimit(this.current, this.limits)) {
      this.abort("idle timeout");
      return;
    }
    this.schedule(now);
  }

  private schedule(now: number): void {
    const state = this.current;
    if (state.name === "CLOSED") return;
    const send = this.send;
    if (state.name !== "DIALING" && state.name !== "TIME-WAIT" && send.rtoAt === 0 && send.persisting) {
      send.armRto(now); // the persist timer
    }
    this.deadline = nextDeadline(state, send.rtoAt, this.lastActivity, this.limits);
  }

  // ---- ending ------------------------------------------------------------------------------

  /** Resets the connection: an RST to the remote (once it has been answered), the peer reset. */
  abort(reason: string): void {
    if (this.current.name === "CLOSED") return;
    if (this.current !== DIALING) {
      this.out.transmit(this.send.nxt, this.receive.nxt, TcpFlag.RST | TcpFlag.ACK, 0, undefined, undefined);
    }
    this.finish(reason, "reset");
  }

  /** Applies a FIN transition; true when it closed the connection. */
  private teardown(next: Teardown, now: number): boolean {
    if (next === "CLOSED") {
      this.finish("closed", "graceful");
      return true;
    }
    if (next === "TIME-WAIT") {
      this.send.rtoAt = 0;
      this.setState(timeWait(now + this.limits.timeWaitMs));
      this.schedule(now);
      return false;
    }
    if (next !== this.current) this.setState(next);
    return false;
  }

  private finish(reason: string, release: PeerRelease): void {
    if (this.current.name === "CLOSED") return;
    this.setState(closed(reason));
    this.deadline = 0;
    this.acked();
    this.send.clear();
    this.receive.clear();
    this.out.closed(reason, release);
  }

  private setState(state: TcpState): void {
    this.current = state;
    this.out.stateChanged(state);
  }

  // ---- segments out ------------------------------------------------------------------------

  /** Sends what the remote's window and the link allow, once the handshake is done. */
  private transmit(now: number): void {
    const name = this.current.name;
    if (name === "DIALING" || name === "SYN-RECEIVED" || name === "CLOSED" || name === "TIME-WAIT") return;
    if (!this.send.transmit(this.writable, now)) this.out.linkBlocked();
    if (this.send.fin === "sent") {
      const next = afterFinSent(this.current);
      if (next !== this.current) this.setState(next);
    }
  }

  /** `delayable`: only in-order data is owed an ACK; anything else (a FIN, a window update, an
   * unexpected segment) is answered at the end of the batch, and takes a delayed ACK with it. */
  private oweAck(delayable = false): void {
    if (this.acking && (delayable || !this.ackDelayed)) return;
    this.acking = true;
    this.ackDelayed = delayable;
    this.out.ackOwed(delayable);
  }

  /** A segment carrying our ACK went out: nothing is owed any more. */
  private acked(): void {
    this.acking = false;
    this.ackDelayed = false;
    this.bytesSinceAck = 0;
  }

  /** An ACK now: the end of a batch, a window update, or (`withSack`) a duplicate ACK. */
  private sendAck(withSack: boolean): void {
    const name = this.current.name;
    if (name === "CLOSED" || name === "DIALING") return;
    const options =
      withSack && this.negotiated.sackPermitted && this.receive.hasHoles
        ? { sackBlocks: this.receive.sackBlocks() }
        : undefined;
    this.acked();
    this.out.transmit(this.send.nxt, this.receive.nxt, TcpFlag.ACK, this.advertise(), undefined, options);
  }

  private emit(seq: number, flags: number, payload?: PayloadWriter, options?: TcpOptions): void {
    const window =
      flags & TcpFlag.SYN ? this.receive.advertiseUnscaled(this.receiveRoom()) : this.advertise();
    // Data carries the ACK owed (piggybacked): the flush that was to send it finds nothing to do.
    if (flags & TcpFlag.ACK) this.acked();
    this.out.transmit(seq, this.receive.nxt, flags, window, payload, options);
  }

  private advertise(): number {
    return this.receive.advertise(this.receiveRoom());
  }

  /** The room the peer has left: the flow's buffer share less what the peer still holds. */
  private receiveRoom(): number {
    return Math.max(0, this.out.bufferCap() - this.out.peerBuffered());
  }
}
