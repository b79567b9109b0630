/**
 * A device that wraps any port and mistreats its packets, in both directions, at seeded rates:
 * loss, reordering, duplication, delay and corruption (smoltcp's phy::FaultInjector). A test
 * tool plugged between layers: the link and the engines know nothing of it. The same seed and
 * the same packets give the same faults; print `describe()` so a failing run can be replayed.
 *
 * Each packet draws its fate once: lost, or else possibly corrupted (one bit flipped), then
 * duplicated, then either delayed by `delayMs` or held back until the next packet in its
 * direction has passed (reordered; a held packet leaves after `delayMs` if none comes). One
 * packet is held at a time: the next one always overtakes it.
 *
 * Buffer ownership: a packet that leaves at once is passed on as it came (lent); one that is
 * delayed, held, duplicated late or corrupted is copied first. A packet built with `sendWith`
 * that meets a fault is built in a Buffer of its own; one that meets none is built in place.
 *
 * Not here: rate shaping (bandwidth), bursts of loss (each packet draws alone).
 */
import type { PacketBatchHandler, PacketFill, PacketPort } from "./packet-port.js";
import { SeededRandom } from "./seeded-random.js";

/** Probabilities from 0 to 1, per packet. */
export interface FaultRates {
  loss: number;
  reorder: number;
  duplicate: number;
  delay: number;
  corrupt: number;
}

export interface FaultInjectorOptions {
  seed: number;
  rates: Partial<FaultRates>;
  /** How long a delayed packet (or a held one that nothing overtakes) waits. Default 10 ms. */
  delayMs?: number;
}

export interface FaultCounts {
  packets: number;
  lost: number;
  corrupted: number;
  duplicated: number;
  delayed: number;
  reordered: number;
}

const DEFAULT_DELAY_MS = 10;
const RATE_NAMES: readonly (keyof FaultRates)[] = ["loss", "reorder", "duplicate", "delay", "corrupt"];

export class FaultInjector implements PacketPort {
  readonly seed: number;
  /** What each direction suffered: `outbound` is what was sent through this port. */
  readonly counts: { outbound: FaultCounts; inbound: FaultCounts };
  private readonly rates: FaultRates;
  private readonly delayMs: number;
  private readonly random: SeededRandom;
  private readonly outbound: FaultLane;
  private readonly inbound: FaultLane;
  private handler: PacketBatchHandler = () => undefined;

  constructor(
    private readonly inner: PacketPort,
    options: FaultInjectorOptions,
  ) {
    this.seed = options.seed >>> 0;
    this.rates = { loss: 0, reorder: 0, duplicate: 0, delay: 0, corrupt: 0, ...options.rates };
    for (const name of RATE_NAMES) {
      const rate = this.rates[name];
      if (!(rate >= 0 && rate <= 1))
        throw new RangeError(`fault rate ${name} must be from 0 to 1, got ${rate}`);
    }
    this.delayMs = options.delayMs ?? DEFAULT_DELAY_MS;
    this.random = new SeededRandom(this.seed);
    this.counts = { outbound: emptyCounts(), inbound: emptyCounts() };
    this.outbound = new FaultLane(this.counts.outbound, this.delayMs, (packets) => inner.sendAll(packets));
    this.inbound = new FaultLane(this.counts.inbound, this.delayMs, (packets) => this.handler(packets));
  }

  /** The rates and the seed, as a line to print before a run. */
  describe(): string {
    const rates = RATE_NAMES.map((name) => `${name} ${(this.rates[name] * 100).toFixed(1)}%`).join(", ");
    return `faults: ${rates}, delay ${this.delayMs} ms, seed ${this.seed}`;
  }

  send(packet: Buffer): void {
    this.outbound.pass([packet], this.draw);
  }

  sendAll(packets: readonly Buffer[]): void {
    this.outbound.pass(packets, this.draw);
  }

  sendWith(length: number, fill: PacketFill): void {
    const fate = this.draw();
    if (fate === CLEAN && !this.outbound.holding) {
      this.counts.outbound.packets++;
      this.inner.sendWith(length, fill);
      return;
    }
    const packet = Buffer.allocUnsafe(length);
    fill(packet, 0);
    this.outbound.pass([packet], () => fate);
  }

  get writable(): boolean {
    return this.inner.writable;
  }

  onDrain(listener: () => void): void {
    this.inner.onDrain(listener);
  }

  onPackets(handler: PacketBatchHandler): () => void {
    this.handler = handler;
    const stop = this.inner.onPackets((packets) => this.inbound.pass(packets, this.draw));
    return () => {
      this.handler = () => undefined;
      stop();
    };
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  /** Drops held and delayed packets and stops their timers (the test is over). */
  close(): void {
    this.outbound.clear();
    this.inbound.clear();
  }

  private readonly draw = (): Fate => {
    const r = this.random;
    const rates = this.rates;
    if (r.chance(rates.loss)) return LOST;
    let fate = CLEAN;
    if (r.chance(rates.corrupt)) fate |= CORRUPT;
    if (r.chance(rates.duplicate)) fate |= DUPLICATE;
    if (r.chance(rates.delay)) fate |= DELAY;
    else if (r.chance(rates.reorder)) fate |= HOLD;
    if (fate & CORRUPT) fate |= r.below(0x1_0000) << BIT_SHIFT;
    return fate;
  };
}

/** A packet's fate, drawn once: flags, and for corruption which bit to flip (above BIT_SHIFT). */
type Fate = number;
const CLEAN = 0;
const LOST = 1;
const CORRUPT = 2;
const DUPLICATE = 4;
const DELAY = 8;
const HOLD = 16;
const BIT_SHIFT = 5;

/** One direction: applies each packet's fate and delivers what leaves now as one batch. */
class FaultLane {
  private held: Buffer | undefined;
  private heldTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly counts: FaultCounts,
    private readonly delayMs: number,
    private readonly deliver: (packets: Buffer[]) => void,
  ) {}

  get holding(): boolean {
    return this.held !== undefined;
  }

  pass(packets: readonly Buffer[], draw: () => Fate): void {
    const now: Buffer[] = [];
    for (const original of packets) {
      this.counts.packets++;
      const fate = draw();
      if (fate === LOST) {
        this.counts.lost++;
        continue;
      }
      let packet = original;
      if (fate & CORRUPT) {
        packet = Buffer.from(original);
        const bit = (fate >>> BIT_SHIFT) % (packet.length * 8);
        packet[bit >>> 3]! ^= 1 << (bit & 7);
        this.counts.corrupted++;
      }
      const copies = fate & DUPLICATE ? 2 : 1;
      if (fate & DUPLICATE) this.counts.duplicated++;
      for (let copy = 0; copy < copies; copy++) {
        if (fate & DELAY) {
          this.counts.delayed++;
          this.later(Buffer.from(packet));
        } else if (fate & HOLD && copy === 0 && this.held === undefined) {
          this.hold(Buffer.from(packet));
        } else {
          now.push(packet);
          this.release(now);
        }
      }
    }
    if (now.length > 0) this.deliver(now);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.held = undefined;
  }

  /** A held packet leaves right after the packet that overtook it. */
  private release(into: Buffer[]): void {
    if (this.held === undefined) return;
    into.push(this.held);
    this.counts.reordered++;
    this.held = undefined;
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
  }

  /** Nothing overtook the held packet in time: it leaves alone, only delayed. */
  private releaseLate(): void {
    const late = this.held;
    this.held = undefined;
    this.heldTimer = undefined;
    if (late === undefined) return;
    this.counts.delayed++;
    this.deliver([late]);
  }

  private hold(packet: Buffer): void {
    this.held = packet;
    this.heldTimer = setTimeout(() => this.releaseLate(), this.delayMs);
  }

  private later(packet: Buffer): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.deliver([packet]);
    }, this.delayMs);
    this.timers.add(timer);
  }
}

function emptyCounts(): FaultCounts {
  return { packets: 0, lost: 0, corrupted: 0, duplicated: 0, delayed: 0, reordered: 0 };
}
