/**
 * Far destinations that accepted a connection from this computer a moment ago. A SYN to one of
 * them is answered at once and the real connect runs meanwhile (an optimistic handshake); any
 * other SYN is answered only after the real connect, the way the destination answered it.
 *
 * Why: the connect to the destination and the link's round trip for the handshake then overlap
 * instead of adding up: a new connection is shorter by the smaller of the two (over a VPN, tens
 * of milliseconds). Only a destination that accepted within `ttlMs` qualifies, so a first
 * contact, a closed port or an unreachable host still get a refusal or an ICMP error as before; a
 * service that stopped within that time shows up once as a reset connection instead of a
 * refused one, and is then forgotten. And only one whose last connect took at least
 * `minConnectMs`: for a destination next door there is next to nothing to gain, and on a busy
 * machine the connect's completion then competes with the handshake (`npm run bench:latency`:
 * about 0.2 ms slower per GET to the bench's host next door, 0.6–1.5 ms faster to its host 20 ms
 * away, where the link's round trip is the smaller of the two). sshuttle answers every
 * connection early; gVisor's forwarder (what Tailscale uses) never does.
 */
export class AcceptingDestinations {
  /** "host port" → when the entry expires (ms). Insertion order is age order: oldest first. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly minConnectMs: number,
    private readonly maxEntries = 4096,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a SYN to this destination may be answered before its connect completes. */
  answerEarly(host: string, port: number): boolean {
    if (this.ttlMs <= 0) return false;
    const key = `${host} ${port}`;
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(key);
    return false;
  }

  /** A connect to the destination succeeded after `connectMs`. */
  accepted(host: string, port: number, connectMs: number): void {
    if (this.ttlMs <= 0) return;
    const key = `${host} ${port}`;
    this.until.delete(key); // re-inserted as the newest, or left out when it is near
    if (connectMs < this.minConnectMs) return;
    this.until.set(key, this.now() + this.ttlMs);
    if (this.until.size > this.maxEntries) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
  }

  failed(host: string, port: number): void {
    this.until.delete(`${host} ${port}`);
  }

  get size(): number {
    return this.until.size;
  }
}
