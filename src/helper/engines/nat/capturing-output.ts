// The engines' tests' packet port: keeps a copy of every packet the engines send towards the
// remote, and waits for the next one.
import { RecordingPort } from "../port/testing.js";

/** A RecordingPort whose tests can wait for packets to arrive. */
export class CapturingOutput extends RecordingPort {
  private readonly waiters: Array<() => void> = [];

  /** What the engines sent, oldest first; `next` takes packets out. */
  get packets(): Buffer[] {
    return this.sent;
  }

  override send(packet: Buffer): void {
    super.send(packet);
    for (const waiter of this.waiters.splice(0)) waiter();
  }

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
