// The platform-neutral TUN device: what the remote agent (entrance role) programs against.
// Linux is implemented over our N-API addon (linux-tun.ts); macOS utun and Windows Wintun would be
// further implementations of this same interface, chosen in open-tun.ts.

export interface TunOpenOptions {
  /** Interface name or kernel pattern ("bh0", "bh%d"); the kernel picks one when omitted. */
  name?: string;
  /** Interface MTU. The link is a reliable stream, so large values (up to 65535) are fine. */
  mtu: number;
}

export interface TunStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Packets handed to write() that were dropped: TUN queue full, device down, or rejected. */
  writeDrops: number;
  /** Read failures; reading stops after one and the error listener is told. */
  readErrors: number;
}

/**
 * One batch of IP packets, as read in one kernel wakeup. The Buffers may share memory with each
 * other: copy a packet if you keep it beyond the batch's processing.
 */
export type PacketBatchListener = (packets: Buffer[]) => void;

export type TunErrorListener = (error: Error) => void;

export interface TunDevice {
  /** The interface name the OS gave the device. */
  readonly name: string;
  readonly mtu: number;
  readonly closed: boolean;
  /** Sets the (single) consumer of packet batches and starts reading. */
  onPackets(listener: PacketBatchListener): void;
  /** Read errors go here; without a listener they are thrown as uncaught exceptions. */
  onError(listener: TunErrorListener): void;
  /** Stops reading (backpressure): the OS queue fills and then drops, as a NIC would. */
  pause(): void;
  resume(): void;
  /** Writes IP packets to the OS; returns how many it took. Drops are counted, never thrown. */
  write(packets: readonly Buffer[]): number;
  stats(): TunStats;
  /** Closes the device (the OS removes the interface, its addresses and routes); idempotent. */
  close(): void;
}

/** Lowest MTU IPv4 allows and the largest a TUN device takes. IPv6 needs at least 1280. */
export const MIN_TUN_MTU = 68;
export const MAX_TUN_MTU = 65535;

export function checkTunMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MIN_TUN_MTU || mtu > MAX_TUN_MTU) {
    throw new RangeError(`TUN MTU must be an integer from ${MIN_TUN_MTU} to ${MAX_TUN_MTU}, got ${mtu}`);
  }
}
