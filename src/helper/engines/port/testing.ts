// A PacketPort for tests: records what is sent (copies, since sends are lent) and lets the test
// deliver inbound batches as the other side would.
import type { PacketBatchHandler, PacketFill, PacketPort } from "./packet-port.js";

export class RecordingPort implements PacketPort {
  readonly sent: Buffer[] = [];
  writable = true;
  paused = false;
  private handler: PacketBatchHandler | undefined;
  private readonly drainListeners: Array<() => void> = [];

  send(packet: Buffer): void {
    this.sent.push(Buffer.from(packet));
  }
  sendAll(packets: readonly Buffer[]): void {
    for (const packet of packets) this.send(packet);
  }
  sendWith(length: number, fill: PacketFill): void {
    const target = Buffer.alloc(length + 4);
    fill(target, 4);
    this.send(target.subarray(4));
  }
  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }
  onPackets(handler: PacketBatchHandler): () => void {
    this.handler = handler;
    return () => {
      this.handler = undefined;
    };
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }

  /** Delivers a batch as if it had arrived on this port. */
  receive(packets: Buffer[]): void {
    this.handler?.(packets);
  }
  /** Room is back: runs the drain listeners. */
  drain(): void {
    this.writable = true;
    for (const listener of this.drainListeners) listener();
  }
}
