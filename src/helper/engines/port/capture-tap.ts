/**
 * A device that shows a recorder every packet passing through a port, both directions, while
 * recording is on (a pcapng writer: src/helper/engines/capture). Off, it costs one null check per call:
 * packets built in place with `sendWith` stay in place. On, the recorder reads each packet
 * during the call and keeps nothing (the port's lending rule holds).
 */
import type { CaptureDirection } from "../capture/pcapng-blocks.js";
import type { PacketBatchHandler, PacketFill, PacketPort } from "./packet-port.js";

export interface PacketRecorder {
  /** Reads `packet` during the call only. Outbound = sent through the port. */
  record(direction: CaptureDirection, packet: Uint8Array): void;
}

export class CaptureTap implements PacketPort {
  private recorder: PacketRecorder | null = null;

  constructor(private readonly inner: PacketPort) {}

  /** Starts showing packets to `recorder`, replacing any earlier one. */
  start(recorder: PacketRecorder): void {
    this.recorder = recorder;
  }

  /** Stops showing packets to `recorder` (if it is still the current one). */
  stop(recorder: PacketRecorder): void {
    if (this.recorder === recorder) this.recorder = null;
  }

  get recording(): boolean {
    return this.recorder !== null;
  }

  send(packet: Buffer): void {
    this.recorder?.record("outbound", packet);
    this.inner.send(packet);
  }

  sendAll(packets: readonly Buffer[]): void {
    const recorder = this.recorder;
    if (recorder) for (const packet of packets) recorder.record("outbound", packet);
    this.inner.sendAll(packets);
  }

  sendWith(length: number, fill: PacketFill): void {
    const recorder = this.recorder;
    if (recorder === null) return this.inner.sendWith(length, fill);
    this.inner.sendWith(length, (target, offset) => {
      fill(target, offset);
      recorder.record("outbound", target.subarray(offset, offset + length));
    });
  }

  get writable(): boolean {
    return this.inner.writable;
  }

  onDrain(listener: () => void): void {
    this.inner.onDrain(listener);
  }

  onPackets(handler: PacketBatchHandler): () => void {
    return this.inner.onPackets((packets) => {
      const recorder = this.recorder;
      if (recorder) for (const packet of packets) recorder.record("inbound", packet);
      handler(packets);
    });
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }
}
