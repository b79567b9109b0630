/** DNS engine counters, for stats: what came in, how it was answered, what went wrong. */
export interface DnsCounters {
  /** Every message handed to the engine. */
  queries: number;
  udpQueries: number;
  tcpQueries: number;
  /** Not a readable query: answered FORMERR when the header was readable, dropped otherwise. */
  malformed: number;
  /** No answer at all: shorter than a header, or a response rather than a query. */
  dropped: number;
  /** Answered NOTIMP or BADVERS: another opcode, a zone transfer, a newer EDNS version. */
  unsupported: number;
  cacheHits: number;
  /** Queries that joined an identical one already being resolved. */
  coalesced: number;
  /** Exchanges with this computer's resolvers (each retry counts). */
  upstreamQueries: number;
  /** Exchanges that timed out, failed, or answered SERVFAIL/REFUSED/NOTIMP/FORMERR. */
  upstreamFailures: number;
  /** UDP answers from a resolver with TC=1, retried over TCP. */
  upstreamTruncated: number;
  /** getaddrinfo lookups made after the forwarders said NXDOMAIN or failed. */
  fallbackLookups: number;
  /** Answers that came from getaddrinfo. */
  fallbacks: number;
  /** Answers too large for the remote's UDP limit, sent as TC=1 so it retries over TCP. */
  truncated: number;
  /** SERVFAIL because too many questions were already being resolved. */
  overloaded: number;
  servfail: number;
  nxdomain: number;
  /** Bugs: an exception inside the engine, answered SERVFAIL. */
  internalErrors: number;
}

export function newDnsCounters(): DnsCounters {
  return {
    queries: 0,
    udpQueries: 0,
    tcpQueries: 0,
    malformed: 0,
    dropped: 0,
    unsupported: 0,
    cacheHits: 0,
    coalesced: 0,
    upstreamQueries: 0,
    upstreamFailures: 0,
    upstreamTruncated: 0,
    fallbackLookups: 0,
    fallbacks: 0,
    truncated: 0,
    overloaded: 0,
    servfail: 0,
    nxdomain: 0,
    internalErrors: 0,
  };
}
