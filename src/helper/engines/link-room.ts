import type { Link } from "./link/link.js";

/**
 * Producers (the TUN reader, the NAT engine's flows) may run ahead of a stream that pushes back,
 * until this much waits in the link's queue. Node reports backpressure for any write over 16 KiB,
 * so pausing at the first `false` would stall the TUN reader on every batch and overflow the
 * kernel's TUN queue; a megabyte of slack keeps data moving while staying bounded.
 */
export const LINK_HIGH_WATER_BYTES = 1024 * 1024;

export class LinkRoom {
  private readonly listeners: Array<() => void> = [];
  private recheck: NodeJS.Immediate | undefined;

  constructor(private readonly link: Link) {
    link.on("drain", () => this.notify());
  }

  get available(): boolean {
    const room = this.link.queuedBytes < LINK_HIGH_WATER_BYTES;
    // Not blocked yet over the mark: the link flushes this turn, after which there may be room
    // without any 'drain' event; look again then.
    if (!room && !this.recheck) this.recheck = setImmediate(() => this.notify());
    return room;
  }

  /** `listener` runs each time room may be back. */
  onRoom(listener: () => void): void {
    this.listeners.push(listener);
  }

  private notify(): void {
    if (this.recheck) clearImmediate(this.recheck);
    this.recheck = undefined;
    if (!this.link.isOpen) return;
    if (this.link.queuedBytes >= LINK_HIGH_WATER_BYTES) {
      // Still full: a blocked link emits 'drain' later; otherwise look again next turn.
      if (this.link.writable) this.recheck = setImmediate(() => this.notify());
      return;
    }
    for (const listener of this.listeners) listener();
  }
}
