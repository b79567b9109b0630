/**
 * Destinations that accepted a connection from this computer a moment ago. A SYN to one of them
 * is answered at once and the real connect runs meanwhile (an optimistic handshake); any other
 * SYN is answered only after the real connect, the way the destination answered it.
 *
 * Why: the remote's handshake then costs one link round trip instead of a link round trip plus
 * a connect from here (over a VPN, tens of milliseconds per new connection), and the remote's
 * first bytes cross the link while the connect completes. Only a destination that accepted
 * within `ttlMs` qualifies, so a first contact, a closed port or an unreachable host still get a
 * refusal or an ICMP error as before; a service that stopped within that time shows up once as a
 * reset connection instead of a refused one, and is then forgotten. sshuttle answers every
 * connection this way; gVisor's forwarder (what Tailscale uses) never does.
 */
export class AcceptingDestinations {
  /** "host port" → when the entry expires (ms). Insertion order is age order: oldest first. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 4096,
    private readonly now: () => number = Date.now,
  ) {}

  has(host: string, port: number): boolean {
    if (this.ttlMs <= 0) return false;
    const key = `${host} ${port}`;
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(key);
    return false;
  }

  accepted(host: string, port: number): void {
    if (this.ttlMs <= 0) return;
    const key = `${host} ${port}`;
    this.until.delete(key); // re-inserted as the newest
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
