// A PacketOutput for tests: keeps every packet the engines send towards the remote.
import type { PacketOutput } from "./packet-output.js";

/** A PacketOutput that keeps what it is given. */
export class CapturingOutput implements PacketOutput {
  readonly packets: Buffer[] = [];
  readonly writable = true;
  private readonly waiters: Array<() => void> = [];

  send(packet: Buffer): void {
    this.packets.push(packet);
    for (const waiter of this.waiters.splice(0)) waiter();
  }
  sendWith(length: number, fill: (target: Buffer, offset: number) => void): void {
    const packet = Buffer.alloc(length);
    fill(packet, 0);
    this.send(packet);
  }

  onDrain(): void {}

  /** Resolves with (and takes out) the next packet `match` accepts, captured already or later. */
  async next<T>(match: (packet: Buffer) => T | undefined, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let index = 0; index < this.packets.length; index++) {
        const value = match(this.packets[index]!);
        if (value !== undefined) {
          this.packets.splice(index, 1);
          return value;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching packet within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once `count` packets have arrived, or rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.packets.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got ${this.packets.length} of ${count} packets within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
