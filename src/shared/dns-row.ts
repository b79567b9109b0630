/**
 * A row of the DNS table, as the UI and the CLI see it: one per answer the DNS engine gave the
 * remote. Rows never change once published; the table only adds and removes them.
 */
/** How the remote asked: a query over UDP or TCP to the stub, or a stream opened by name (a proxy). */
export type DnsTransport = "udp" | "tcp" | "stream";

export interface DnsRow {
  id: number;
  /** The name asked for, lower case, without the trailing dot ("www.corp.test"; "." is the root). */
  name: string;
  /** The question's type: "A", "HTTPS", or "TYPE65280" for a type without a mnemonic. */
  type: string;
  /**
   * The answer section in presentation form. A record of the asked type is its data alone
   * ("198.19.0.10"); another type carries its name first ("CNAME www.s.test.").
   */
  answers: string[];
  /** Seconds: the smallest TTL of the answers, or the negative-caching TTL; null when neither. */
  ttl: number | null;
  /** "NOERROR", "NXDOMAIN", "SERVFAIL", "FORMERR"... */
  rcode: string;
  /** Who answered: "198.19.0.53:53 udp", "[2001:db8::53]:53 tcp", "getaddrinfo", "cache", "engine". */
  resolver: string;
  /** Why the answer is what it is, when that is not obvious ("coalesced", "all resolvers timed out"). */
  detail: string | null;
  latencyMs: number;
  /** Milliseconds since the epoch. */
  at: number;
  transport: DnsTransport;
  /** The session the row belongs to, by its target's name ("devbox"): set by main, not the exit. */
  session?: string;
}
