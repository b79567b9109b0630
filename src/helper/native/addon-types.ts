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
 * Called once per kernel wakeup. `data` holds `count` packets back to back from its start;
 * `lengths[i]` is the length of packet i. `lengths` is reused for every batch: read it before
 * returning. TunDevice lends the same `data` for every call (the next wakeup overwrites it, and
 * its length is the arena's, not the batch's; if JavaScript detaches its ArrayBuffer, later calls
 * get a new one); IcmpSocket passes a copy of exactly the batch.
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

/** The remote's own servers and timeouts for the split DNS relay (see src/dns_relay_linux.c). */
export interface NativeDnsRelayOptions {
  /** The address the relay's UDP socket binds: the TUN's own. */
  listen: string;
  /** 0: the kernel picks (`port` says which). */
  port: number;
  /** Asked in order; at most 8. */
  servers: readonly { address: string; port: number }[];
  /** Names equal to or under these (lower case, no trailing dot) go to onQuery; see setDomains. */
  domains: readonly string[];
  /** Waiting this long for a server before asking the next, when there is a next. */
  nextServerMs: number;
  /** Waiting this long for the last server. */
  lastServerMs: number;
  /** Queries in flight at once; past this, new ones are dropped and counted as overloaded. */
  maxPending: number;
}

export interface NativeDnsRelayStats {
  /** Queries the relay sent to the remote's own servers. */
  viaRemote: number;
  /** Datagrams handed to onQuery (names under the split domains, queries it cannot read in place). */
  toScript: number;
  /** Answers relayed back to the client. */
  answered: number;
  /** Queries no server answered. */
  unanswered: number;
  /** Datagrams dropped: the table or the queue to JavaScript was full. */
  overloaded: number;
  /** Datagrams shorter than a DNS header, dropped. */
  refused: number;
  /** Datagrams on a server's socket that answer no query in flight (wrong id or question), dropped. */
  strayAnswers: number;
  /** Sends the kernel did not take (to a client, a server, or send()). */
  sendFailures: number;
  /** Queries in flight now, and the most there ever were at once. */
  pending: number;
  pendingPeak: number;
  /** Queries sent from a socket already in flight to their server (past the bound on query sockets, or out of descriptors): their port is not their own. */
  sharedPorts: number;
  /** Query sockets the kernel would not open (EMFILE, ENFILE, no ephemeral port...). */
  socketFailures: number;
  /** Query sockets open now, each on its own random port: those in flight and the ready pools. */
  queryPorts: number;
}

/** Called on the main thread with each datagram the relay does not take itself. */
export type NativeDnsQueryCallback = (message: Buffer, address: string, port: number) => void;

export interface NativeDnsRelay {
  /** The port the relay's UDP socket is bound to. */
  readonly port: number;
  /** Names equal to or under these (lower case, no trailing dot) go to onQuery. */
  setDomains(domains: readonly string[]): void;
  /** Sends from the relay's socket (onQuery's answers); false when the kernel did not take it. */
  send(message: Uint8Array, address: string, port: number): boolean;
  stats(): NativeDnsRelayStats;
  /** Stops the thread and closes every socket; idempotent. */
  close(): void;
}

export interface NativeDnsRelayClass {
  /** Binds, opens a first query socket per server (a fresh random port per query after) and starts the relay's thread; throws an errno-named Error. */
  new (options: NativeDnsRelayOptions, onQuery: NativeDnsQueryCallback): NativeDnsRelay;
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
  /** The split DNS forwarder's UDP relay, in a thread of its own. Absent before it. */
  DnsRelay?: NativeDnsRelayClass;
}
