/**
 * The OS resolver (getaddrinfo, through `dns.lookup`), asked for addresses when the forwarders
 * say NXDOMAIN or fail: VPN clients often install split DNS that only getaddrinfo honours
 * (macOS scoped resolvers, NRPT rules on Windows, nss modules).
 *
 * getaddrinfo runs on libuv's small thread pool and cannot be cancelled, so lookups are bounded:
 * a few at a time, each awaited at most `timeoutMs`; a slot stays taken until its lookup really
 * ends, so hung lookups cannot pile up.
 */
import { lookup as dnsLookup } from "node:dns/promises";

export interface LookupAddress {
  address: string;
  family: number;
}

/** getaddrinfo for every family; injectable for tests. */
export type AddressLookup = (hostname: string) => Promise<LookupAddress[]>;

export const systemLookup: AddressLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export type OsLookupResult =
  | { kind: "found"; addresses: LookupAddress[] }
  /** getaddrinfo knows no address for the name, in any family. */
  | { kind: "not-found" }
  | { kind: "failed"; reason: string };

export interface OsLookupOptions {
  lookup?: AddressLookup;
  maxConcurrent?: number;
  timeoutMs?: number;
}

const NOT_FOUND_CODES = new Set(["ENOTFOUND", "ENODATA", "EAI_NONAME", "EAI_NODATA"]);

export class OsLookup {
  private readonly lookup: AddressLookup;
  private readonly maxConcurrent: number;
  private readonly timeoutMs: number;
  private running = 0;

  constructor(options: OsLookupOptions = {}) {
    this.lookup = options.lookup ?? systemLookup;
    this.maxConcurrent = options.maxConcurrent ?? 2;
    this.timeoutMs = options.timeoutMs ?? 1_500;
  }

  /** `hostname` without the trailing dot: glibc's files backend does not match "name." in /etc/hosts. */
  async resolve(hostname: string): Promise<OsLookupResult> {
    if (this.running >= this.maxConcurrent) {
      return { kind: "failed", reason: `${this.maxConcurrent} getaddrinfo lookups already running` };
    }
    this.running++;
    const lookup = Promise.resolve()
      .then(() => this.lookup(hostname))
      .finally(() => this.running--);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<OsLookupResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ kind: "failed", reason: `getaddrinfo took over ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
    });
    const answer = lookup.then(
      (addresses): OsLookupResult =>
        addresses.length > 0 ? { kind: "found", addresses } : { kind: "not-found" },
      (error: NodeJS.ErrnoException): OsLookupResult =>
        NOT_FOUND_CODES.has(error.code ?? "")
          ? { kind: "not-found" }
          : { kind: "failed", reason: `getaddrinfo: ${error.code ?? error.message}` },
    );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
