// The shape of backhaul_native.node as JavaScript sees it (see src/*.c for the C side).
// Kept apart from the loader so platform code can import the types without loading anything.

/** Counters kept by the addon for one TUN device. */
export interface NativeTunStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Packets given to write() that the kernel did not take (queue full, device down, rejected). */
  writeDrops: number;
  readErrors: number;
}

/**
 * Called once per kernel wakeup. `data` holds `count` packets back to back; `lengths[i]` is the
 * length of packet i. `lengths` is reused for every batch: read it before returning.
 */
export type NativeBatchCallback = (data: Buffer, lengths: Uint32Array, count: number) => void;

export interface NativeTunDevice {
  /** The interface name the kernel gave the device. */
  readonly name: string;
  start(onBatch: NativeBatchCallback, onError: (error: Error) => void): void;
  pause(): void;
  resume(): void;
  /** Writes each packet with its own write(); returns how many the kernel took. */
  write(packets: readonly Uint8Array[]): number;
  stats(): NativeTunStats;
  /** Stops reading and closes the fd; idempotent. */
  close(): void;
}

export interface NativeTunDeviceClass {
  /** Opens /dev/net/tun and creates the interface; `name` may be a pattern such as "bh%d". */
  new (name?: string): NativeTunDevice;
  /** The most packets one batch callback carries. */
  readonly maxBatch: number;
}

/** How an ICMP socket was opened (see src/icmp_linux.c). */
export type NativeIcmpMode = "datagram" | "raw";

export interface NativeIcmpStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** sendto() failures (each one is also returned by send()). */
  sendErrors: number;
  /** Receive failures; receiving stops after one and onError is told. */
  readErrors: number;
}

export interface NativeIcmpSocket {
  readonly family: 4 | 6;
  readonly mode: NativeIcmpMode;
  /** Datagram sockets: the echo identifier the kernel writes into every request. Raw: null. */
  readonly identifier: number | null;
  /** Bytes of the source address before each message in a batch: 4 or 16. */
  readonly addressLength: number;
  /**
   * Starts receiving echo replies. In each batch, entry i is the source address (addressLength
   * bytes) followed by lengths[i] bytes of ICMP echo reply; `lengths` is reused for every batch.
   */
  start(onBatch: NativeBatchCallback, onError: (error: Error) => void): void;
  /** Sends one ICMP message; null when the kernel took it, else the errno name ("ENETUNREACH"). */
  send(address: Uint8Array, message: Uint8Array): string | null;
  stats(): NativeIcmpStats;
  /** Stops receiving and closes the fd; idempotent. */
  close(): void;
}

export interface NativeIcmpSocketClass {
  /**
   * "auto" (default) tries an unprivileged datagram ICMP socket, then a raw one. Throws an
   * errno-named Error (code "EACCES", "EPERM", "EAFNOSUPPORT"...) saying how to allow ICMP.
   */
  new (family: 4 | 6, mode?: "auto" | NativeIcmpMode): NativeIcmpSocket;
  readonly maxBatch: number;
}

export interface NativeAddon {
  TunDevice: NativeTunDeviceClass;
  /** Absent from binaries built before the ICMP socket existed. */
  IcmpSocket?: NativeIcmpSocketClass;
  /** flock(fd, LOCK_EX | LOCK_NB): true when taken, false when another holder has it. Absent before the agent lock. */
  flockExclusive?: (fd: number) => boolean;
  /**
   * The uid owning the TCP socket with these addresses and ports (sock_diag), or -1 when there is
   * none. Absent before `--socks`.
   */
  tcpSocketOwner?: (family: 4 | 6, src: Buffer, srcPort: number, dst: Buffer, dstPort: number) => number;
  /**
   * Grows the pipe `fd` to at least `bytes` (F_SETPIPE_SZ); its capacity afterwards, or null when
   * fd is not a pipe. A size the kernel refuses the user leaves the pipe as it was. Absent before
   * the agent's link pipes were grown.
   */
  setPipeSize?: (fd: number, bytes: number) => number | null;
}
