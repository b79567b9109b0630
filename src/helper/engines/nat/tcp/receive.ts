/**
 * The receive side of a connection (RFC 9293 §3.3.1 "receive sequence space", §3.8.6): what the
 * remote sent, in order, and the window we advertise. Segments past a hole wait in the
 * reassembly queue and are reported as SACK blocks (RFC 2018).
 */
import type { SackBlock } from "../../packet/index.js";
import { ReassemblyQueue } from "./reassembly.js";
import { seqAdd, seqDiff, seqLt } from "./seq.js";

const MAX_WINDOW_FIELD = 0xffff;
/** Without timestamps, four SACK blocks fit the 40 bytes of options (RFC 2018 §3). */
const MAX_SACK_BLOCKS = 4;

/**
 * What became of one segment's payload: "old", every byte was delivered already (a
 * retransmission); "outside-window", beyond the window we advertised (a zero-window probe);
 * "out-of-order", after a hole, held for reassembly; "in-order", delivered (with whatever the
 * reassembly queue held after it).
 */
export type Received = "old" | "outside-window" | "out-of-order" | "in-order";

export class ReceiveSide {
  /** Next sequence number expected. */
  nxt: number;
  /** Right edge of the last window we advertised: data up to it is accepted even if over cap. */
  advertisedEdge: number;
  /** The window (in bytes) we advertised last. */
  lastAdvertised = 0;
  finReceived = false;
  private readonly reassembly = new ReassemblyQueue();

  constructor(
    /** The remote's initial sequence number (its SYN's). */
    irs: number,
    /** Shift applied to the windows we advertise (0 without window scaling). */
    private readonly shift: number,
  ) {
    this.nxt = seqAdd(irs, 1);
    this.advertisedEdge = this.nxt;
  }

  get heldBytes(): number {
    return this.reassembly.bytes;
  }

  get hasHoles(): boolean {
    return !this.reassembly.isEmpty;
  }

  /**
   * Takes one segment's payload (a view into the link's frame). In-order bytes go to `deliver`,
   * each as a Buffer the receiver of the call owns; the rest is copied for reassembly.
   */
  accept(seq: number, payload: Buffer, deliver: (data: Buffer) => void): Received {
    let data = payload;
    let start = seq;
    if (seqLt(start, this.nxt)) {
      const overlap = seqDiff(this.nxt, start);
      if (overlap >= data.length) return "old";
      data = data.subarray(overlap);
      start = this.nxt;
    }
    const room = seqDiff(this.advertisedEdge, start);
    if (room <= 0) return "outside-window";
    if (data.length > room) data = data.subarray(0, room);
    if (start !== this.nxt) {
      this.reassembly.insert(start, data, room);
      return "out-of-order";
    }
    // The payload is a view into the link's frame: the peer gets its own copy.
    this.deliverInOrder(Buffer.from(data), deliver);
    if (!this.reassembly.isEmpty) {
      for (const held of this.reassembly.take(this.nxt)) this.deliverInOrder(held, deliver);
    }
    return "in-order";
  }

  /** The remote's FIN at `finSeq`: true when it is the next thing expected (and now taken). */
  acceptFin(finSeq: number): boolean {
    if (finSeq !== this.nxt || this.finReceived) return false;
    this.finReceived = true;
    this.nxt = seqAdd(this.nxt, 1);
    return true;
  }

  /** Whether `seq` is inside the window, as a reset must be (RFC 9293 §3.10.7.4). */
  inWindow(seq: number): boolean {
    return seqDiff(seq, this.nxt) >= 0 && seqLt(seq, seqAdd(this.advertisedEdge, 1));
  }

  /** Up to four SACK blocks for the held ranges, the most recent first. */
  sackBlocks(): SackBlock[] {
    return this.reassembly.sackBlocks(MAX_SACK_BLOCKS);
  }

  /**
   * The window field for `room` free bytes, scaled; records the right edge it promises. The edge
   * never moves back (RFC 9293 §3.8.6.2.1): at least what was promised is advertised again.
   */
  advertise(room: number): number {
    const unit = 2 ** this.shift;
    const field = Math.min(MAX_WINDOW_FIELD, Math.floor(room / unit));
    const bytes = field * unit;
    const edge = seqAdd(this.nxt, bytes);
    if (seqLt(edge, this.advertisedEdge)) {
      const promised = seqDiff(this.advertisedEdge, this.nxt);
      const kept = Math.min(MAX_WINDOW_FIELD, Math.ceil(promised / unit));
      this.lastAdvertised = kept * unit;
      return kept;
    }
    this.advertisedEdge = edge;
    this.lastAdvertised = bytes;
    return field;
  }

  /** A SYN-ACK's window: never scaled (RFC 7323 §2.2), and still a promise of that much room. */
  advertiseUnscaled(room: number): number {
    const window = Math.min(MAX_WINDOW_FIELD, room);
    this.lastAdvertised = window;
    this.advertisedEdge = seqAdd(this.nxt, window);
    return window;
  }

  clear(): void {
    this.reassembly.clear();
  }

  private deliverInOrder(data: Buffer, deliver: (data: Buffer) => void): void {
    this.nxt = seqAdd(this.nxt, data.length);
    deliver(data);
  }
}
