/**
 * Where the engines send packets towards the remote: in production the link's packet batcher.
 * `send` takes ownership of the Buffer. When `writable` is false the link is backed up: flows
 * hold their data and wait for `onDrain`.
 */
export interface PacketOutput {
  send(packet: Buffer): void;
  /** Like `send`, for a packet of `length` bytes that `fill` writes in place, synchronously. */
  sendWith(length: number, fill: (target: Buffer, offset: number) => void): void;
  readonly writable: boolean;
  onDrain(listener: () => void): void;
}
