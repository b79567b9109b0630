/**
 * One packet port: anything that sends and receives IP packets (the link to the other side, a TUN
 * device, a test's capture) and the devices that wrap one (fault injector, pcapng tap), as
 * smoltcp's phy::Device: test tools plug in between layers instead of living inside them.
 *
 * Buffer ownership, at each hand-over:
 * - `send(packet)`, `sendAll(packets)`: lent for the call. The link and the TUN copy into their
 *   batch or the kernel at once; a port that keeps a packet past the call (a test capture, a
 *   delaying device) copies it. So a batch received from one port can be sent on another as is.
 * - `sendWith(length, fill)`: `fill` writes the packet at target[offset, offset + length) during
 *   the call. The target is the port's (the link's batch slab): `fill` must not keep it.
 * - `onPackets(handler)`: each batch is lent for the handler's call. The Buffers may be views into
 *   a frame or a read buffer that later reads reuse: copy what you keep beyond the call.
 *
 * Not here: closing (each port's owner closes the link or device it wraps) and errors (a port
 * drops and counts what it cannot deliver, as a NIC would).
 */

/** Writes one packet in place at target[offset, offset + length), synchronously. */
export type PacketFill = (target: Buffer, offset: number) => void;

/** Receives one batch of IP packets, in order; the Buffers are lent for the call only. */
export type PacketBatchHandler = (packets: Buffer[]) => void;

export interface PacketPort {
  /** Sends one IP packet; the Buffer is lent for the call. */
  send(packet: Buffer): void;
  /** Sends each packet in order, in one write where the port can (TUN); lent for the call. */
  sendAll(packets: readonly Buffer[]): void;
  /** Sends a packet of `length` bytes that `fill` writes in place: no Buffer of its own. */
  sendWith(length: number, fill: PacketFill): void;
  /** False while the port is backed up: producers hold their data until `onDrain`. */
  readonly writable: boolean;
  /** `listener` runs each time the port may have room again. */
  onDrain(listener: () => void): void;
  /** Sets the (single) receiver of inbound batches; returns a function that removes it. */
  onPackets(handler: PacketBatchHandler): () => void;
  /** Stops delivering inbound batches (backpressure towards the port's source) until `resume`. */
  pause(): void;
  resume(): void;
}
