/**
 * The exit side's DNS engine: the remote's resolver points at a stub address, the NAT engine hands
 * every query sent there to `handleQuery`, and the engine answers the way this computer resolves,
 * so names that only resolve on its VPN or LAN resolve on the remote too.
 *
 *   query ─► parse ─► cache ─► in-flight (coalesce) ─► the name's resolvers ─► answer
 *                                                         └─ NXDOMAIN/failure, A/AAAA ─► getaddrinfo
 *                                                            (only names a user would expect: fallback-names.ts)
 *
 * The name's resolvers are the ones this computer's OS would ask for it, whatever the record
 * type (os-config/: macOS's supplemental resolvers, Windows's NRPT and adapters, resolved's
 * routing domains; choose-resolvers.ts). The OS configuration is read off the query path: the
 * first query waits for the first read, later ones use the last good one while a stale one is
 * read again, and `refreshDnsConfig` reads it at once when the network changed.
 *
 * Nothing the remote sends can make it throw: a malformed query is counted and answered FORMERR
 * (or dropped when even the header is unreadable), and an internal error becomes SERVFAIL.
 *
 * Overload: at most `maxInFlight` distinct questions are resolved at once; beyond that the engine
 * answers SERVFAIL at once rather than queueing. A queued question would be answered after the
 * remote's stub has already retried or given up (it waits 5 s), and a flood of unique names would
 * otherwise hold unbounded state. The remote's resolver retries a SERVFAIL on its own.
 *
 * Not done: DNSSEC validation (DO and CD are passed through; the remote may validate), zone
 * transfers (NOTIMP), DNS over TLS/HTTPS upstream, serving stale answers when resolvers fail.
 */
import { performance } from "node:perf_hooks";
import ipaddr from "ipaddr.js";
import type { DnsRow, DnsTransport } from "../../../shared/dns-row.js";
import { AddressNames, type AddressNamesOptions } from "./address-names.js";
import { prepareAnswer, renderAnswer, type CachePolicy, type PreparedAnswer } from "./answer.js";
import { cacheKey, DnsCache, type DnsCacheOptions } from "./cache.js";
import { newDnsCounters, type DnsCounters } from "./dns-counters.js";
import { DnsTable } from "./dns-table.js";
import { DEFAULT_FORWARDER_TIMEOUTS, Forwarder, type ForwarderTimeouts } from "./forwarder.js";
import { buildAddressAnswer, buildEmptyResponse } from "./messages.js";
import { rcodeName, typeName } from "./names.js";
import { fallbackNames } from "./fallback-names.js";
import { OsLookup, type AddressLookup, type OsLookupResult } from "./os-lookup.js";
import { emptyAnswerTo, parseQuery, type DnsQuery } from "./query.js";
import { chooseResolvers } from "./os-config/choose-resolvers.js";
import { describeDnsConfig, fixedDnsConfig, type OsDnsConfig } from "./os-config/os-dns-config.js";
import { readOsDnsConfig } from "./os-config/system-os-dns.js";
import { networkExchange, type Upstream, type UpstreamExchange } from "./upstream.js";
import { CLASS_IN, parseMessage, Rcode, readHeader, readName, RecordType, type Header } from "./wire.js";

export type ResolverSource = readonly Upstream[] | (() => Promise<readonly Upstream[]>);

/**
 * How often a configuration read from the OS is read again without being told. A command costs a
 * process (scutil, PowerShell, resolvectl), and the route watch's signal (refreshDnsConfig)
 * covers a VPN coming up or going down; resolv.conf is a cheap file that VPN clients rewrite.
 */
export const DNS_CONFIG_REFRESH_MS = { command: 30_000, file: 5_000 } as const;

export type DnsConfigSource = OsDnsConfig | (() => Promise<OsDnsConfig>);

export interface DnsEngineOptions {
  /** This computer's DNS configuration, or how to read it (default: the OS's, os-config/system-os-dns.ts). */
  dnsConfig?: DnsConfigSource;
  /** Default resolvers only, a fixed list or how to read one; ignored when `dnsConfig` is given. */
  resolvers?: ResolverSource;
  /** A configuration read from a source is read again after this long (default DNS_CONFIG_REFRESH_MS). */
  resolverRefreshMs?: number;
  /** How queries reach a resolver; tests inject one without sockets. */
  exchange?: UpstreamExchange;
  timeouts?: Partial<ForwarderTimeouts>;
  /** getaddrinfo for the fallback; tests inject one. */
  lookup?: AddressLookup;
  /** This computer's search domains, for single-label names (default: the DNS configuration's). */
  searchDomains?: () => Promise<readonly string[]>;
  /** Bounds on the fallback: concurrent lookups and how long one is awaited. */
  fallback?: { maxConcurrent?: number; timeoutMs?: number };
  /** TTL of answers synthesized from getaddrinfo, which gives none. */
  fallbackTtlSeconds?: number;
  cache?: DnsCacheOptions & Partial<CachePolicy>;
  /** Distinct questions resolved at once; more are answered SERVFAIL (see the head comment). */
  maxInFlight?: number;
  table?: DnsTable;
  /** Bounds of the address → name map the NAT engine labels flows with (address-names.ts). */
  addressNames?: AddressNamesOptions;
  /** Epoch milliseconds, for rows and cache ages. */
  now?: () => number;
}

/** How one question was resolved; shared by every query coalesced onto it. */
interface Resolution {
  /** Null when nobody gave a usable answer: SERVFAIL. */
  answer: PreparedAnswer | null;
  resolver: string;
  detail: string | null;
}

const DEFAULT_CACHE_POLICY: CachePolicy = { maxTtlSeconds: 3_600, maxNegativeTtlSeconds: 300 };

export class DnsEngine {
  readonly table: DnsTable;
  readonly counters: DnsCounters = newDnsCounters();
  /** The name each address was last answered for, as the remote received it. */
  readonly addressNames: AddressNames;
  private readonly cache: DnsCache;
  private readonly cachePolicy: CachePolicy;
  private readonly forwarder: Forwarder;
  private readonly osLookup: OsLookup;
  private readonly searchDomains: () => Promise<readonly string[]>;
  private readonly inFlight = new Map<string, Promise<Resolution>>();
  private readonly configSource: DnsConfigSource;
  private readonly resolverRefreshMs: number | undefined;
  private readonly fallbackTtlSeconds: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private config: { value: OsDnsConfig; key: string; readAt: number } | undefined;
  private configRead: Promise<OsDnsConfig> | undefined;

  constructor(options: DnsEngineOptions = {}) {
    this.now = options.now ?? Date.now;
    this.table = options.table ?? new DnsTable();
    this.addressNames = new AddressNames({ now: this.now, ...options.addressNames });
    this.cache = new DnsCache({ now: this.now, ...options.cache });
    this.cachePolicy = {
      maxTtlSeconds: options.cache?.maxTtlSeconds ?? DEFAULT_CACHE_POLICY.maxTtlSeconds,
      maxNegativeTtlSeconds:
        options.cache?.maxNegativeTtlSeconds ?? DEFAULT_CACHE_POLICY.maxNegativeTtlSeconds,
    };
    this.forwarder = new Forwarder(
      options.exchange ?? networkExchange,
      { ...DEFAULT_FORWARDER_TIMEOUTS, ...options.timeouts },
      this.counters,
    );
    this.osLookup = new OsLookup({ lookup: options.lookup, ...options.fallback });
    this.searchDomains = options.searchDomains ?? (async () => (await this.currentConfig()).searchDomains);
    this.configSource = options.dnsConfig ?? configFromResolvers(options.resolvers);
    this.resolverRefreshMs = options.resolverRefreshMs;
    this.fallbackTtlSeconds = options.fallbackTtlSeconds ?? 30;
    this.maxInFlight = options.maxInFlight ?? 256;
  }

  /**
   * Answers one DNS message from the remote, wire format in and out; null means no answer at
   * all. `message` is only read before the first await, so the caller may reuse its buffer at
   * once; the returned Buffer is the caller's. Never rejects.
   */
  async handleQuery(message: Buffer, transport: DnsTransport): Promise<Buffer | null> {
    const started = performance.now();
    const at = this.now();
    const header = readHeader(message);
    this.counters.queries++;
    if (transport === "udp") this.counters.udpQueries++;
    else this.counters.tcpQueries++;
    let query: DnsQuery | undefined;
    try {
      const parsed = parseQuery(message);
      if (parsed.kind === "drop") {
        this.counters.malformed++;
        this.counters.dropped++;
        return null;
      }
      if (parsed.kind === "reject") {
        if (parsed.rcode === Rcode.FORMERR) this.counters.malformed++;
        else this.counters.unsupported++;
        if (parsed.query) {
          this.record(parsed.query, transport, started, at, {
            rcode: parsed.rcode,
            answers: [],
            ttl: null,
            resolver: "engine",
            detail: parsed.reason,
          });
        }
        return parsed.response;
      }
      query = parsed.query;
      return await this.answer(query, transport, started, at);
    } catch (error) {
      this.counters.internalErrors++;
      return this.internalErrorAnswer(header, query, transport, started, at, error);
    }
  }

  /**
   * Reads this computer's DNS configuration now (the network changed); a changed one empties the
   * cache. A read that fails keeps the last good configuration. Never rejects.
   */
  refreshDnsConfig(): Promise<OsDnsConfig> {
    this.configRead ??= this.readConfig().finally(() => (this.configRead = undefined));
    return this.configRead;
  }

  /** Entries in the answer cache. */
  get cacheSize(): number {
    return this.cache.size;
  }

  close(): void {
    this.table.stop();
    this.cache.clear();
    this.addressNames.clear();
  }

  private async answer(
    query: DnsQuery,
    transport: DnsTransport,
    started: number,
    at: number,
  ): Promise<Buffer> {
    const key = cacheKey(query);
    const hit = this.cache.get(key);
    if (hit) {
      this.counters.cacheHits++;
      return this.reply(query, transport, started, at, {
        answer: hit.answer,
        ageSeconds: hit.ageSeconds,
        resolver: "cache",
        detail: null,
      });
    }
    let resolution = this.inFlight.get(key);
    let coalesced = false;
    if (resolution) {
      this.counters.coalesced++;
      coalesced = true;
    } else {
      if (this.inFlight.size >= this.maxInFlight) {
        this.counters.overloaded++;
        return this.fail(
          query,
          transport,
          started,
          at,
          `${this.maxInFlight} questions already being resolved`,
        );
      }
      resolution = this.resolve(query, key, transport === "tcp").finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, resolution);
    }
    const { answer, resolver, detail } = await resolution;
    const why = coalesced ? ["coalesced", detail].filter(Boolean).join("; ") : detail;
    if (!answer) return this.fail(query, transport, started, at, why ?? "no answer", resolver);
    return this.reply(query, transport, started, at, { answer, ageSeconds: 0, resolver, detail: why });
  }

  /** Resolves one question once, for every query waiting on it, and caches the answer. */
  private async resolve(query: DnsQuery, key: string, viaTcp: boolean): Promise<Resolution> {
    const choice = chooseResolvers(await this.currentConfig(), readName(query.name, 0));
    const outcome = await this.forwarder.forward(
      {
        question: query,
        dnssecOk: query.edns?.dnssecOk ?? false,
        checkingDisabled: query.checkingDisabled,
        viaTcp,
      },
      choice.servers,
    );
    const addressQuestion =
      query.klass === CLASS_IN && (query.type === RecordType.A || query.type === RecordType.AAAA);
    if (addressQuestion && (outcome.kind === "failed" || outcome.rcode === Rcode.NXDOMAIN)) {
      const why = outcome.kind === "failed" ? outcome.reason : `${outcome.resolver} said NXDOMAIN`;
      const fallback = await this.fallback(query, why);
      if (fallback) {
        this.cache.set(key, fallback.answer);
        return fallback;
      }
    }
    // Which domain chose a resolver other than the defaults: the row says why it went there.
    const route = choice.domain === null ? null : `${choice.domain}: ${choice.sources.join(", ")}`;
    if (outcome.kind === "failed")
      return { answer: null, resolver: "engine", detail: joinDetail(route, outcome.reason) };
    const answer = prepareAnswer(outcome.message, outcome.parsed, this.cachePolicy);
    this.cache.set(key, answer);
    return { answer, resolver: outcome.resolver, detail: joinDetail(route, outcome.detail) };
  }

  /** getaddrinfo's addresses for an A or AAAA question, as a synthesized answer; undefined if none. */
  private async fallback(
    query: DnsQuery,
    why: string,
  ): Promise<(Resolution & { answer: PreparedAnswer }) | undefined> {
    // Lower case: the answer is cached for every spelling of the name.
    const name = readName(query.name, 0).toLowerCase();
    const singleLabel = name.indexOf(".") === name.length - 1;
    const candidates = fallbackNames(name, singleLabel ? await this.searchDomains().catch(() => []) : []);
    let result: OsLookupResult = { kind: "not-found" };
    // Without the trailing dot: glibc's files backend would not match it in /etc/hosts.
    for (const candidate of candidates) {
      this.counters.fallbackLookups++;
      result = await this.osLookup.resolve(candidate);
      if (result.kind === "found") break;
    }
    if (result.kind !== "found") return undefined;
    const family = query.type === RecordType.A ? 4 : 6;
    const seen = new Set<string>();
    const addresses: Buffer[] = [];
    for (const { address, family: found } of result.addresses) {
      if (found !== family || !ipaddr.isValid(address)) continue;
      const bytes = Buffer.from(ipaddr.parse(address).toByteArray());
      if (bytes.length !== (family === 4 ? 4 : 16) || seen.has(address)) continue;
      seen.add(address);
      addresses.push(bytes);
    }
    this.counters.fallbacks++;
    const message = buildAddressAnswer(query, addresses, this.fallbackTtlSeconds);
    const prepared = prepareAnswer(message, parseMessage(message), this.cachePolicy);
    // An empty answer (the name has only the other family) is NODATA: cache it as long too.
    const answer: PreparedAnswer = {
      ...prepared,
      ttl: this.fallbackTtlSeconds,
      cacheTtl: this.fallbackTtlSeconds,
    };
    const detail = addresses.length > 0 ? why : `${why}; getaddrinfo has no IPv${family} address for it`;
    return { answer, resolver: "getaddrinfo", detail };
  }

  /** The configuration to answer with now; a stale one is read again in the background. */
  private currentConfig(): Promise<OsDnsConfig> {
    if (typeof this.configSource !== "function") return Promise.resolve(this.configSource);
    if (!this.config) return this.refreshDnsConfig();
    const { value, readAt } = this.config;
    const fromFile = value.reader === "resolv.conf" || value.reader === "fixed";
    const refreshMs =
      this.resolverRefreshMs ?? (fromFile ? DNS_CONFIG_REFRESH_MS.file : DNS_CONFIG_REFRESH_MS.command);
    if (this.now() - readAt >= refreshMs) void this.refreshDnsConfig();
    return Promise.resolve(value);
  }

  private async readConfig(): Promise<OsDnsConfig> {
    const source = this.configSource;
    if (typeof source !== "function") return source;
    const previous = this.config;
    let value: OsDnsConfig;
    try {
      value = await source();
    } catch {
      // Keep answering with what we had; an unreadable configuration is not a reason to stop.
      value = previous?.value ?? fixedDnsConfig([]);
    }
    const key = describeDnsConfig(value);
    // Other resolvers, another network: answers cached from the old ones may be wrong now.
    if (previous && previous.key !== key) this.cache.clear();
    this.config = { value, key, readAt: this.now() };
    return value;
  }

  private reply(
    query: DnsQuery,
    transport: DnsTransport,
    started: number,
    at: number,
    source: { answer: PreparedAnswer; ageSeconds: number; resolver: string; detail: string | null },
  ): Buffer {
    const { answer, ageSeconds } = source;
    const rendered = renderAnswer(answer, query, ageSeconds, transport);
    // Read once for the address names and the row: every step of a cached answer counts (issue 17).
    const asked = askedName(query);
    let detail = source.detail;
    if (rendered.truncatedForTransport) {
      this.counters.truncated++;
      detail = [detail, "too large for UDP: sent TC=1"].filter(Boolean).join("; ");
    } else {
      this.noteAddresses(query, asked, answer);
    }
    this.record(
      query,
      transport,
      started,
      at,
      {
        rcode: answer.rcode,
        answers: [...answer.answers],
        ttl: answer.ttl === null ? null : Math.max(0, answer.ttl - ageSeconds),
        resolver: source.resolver,
        detail,
      },
      asked,
    );
    return rendered.message;
  }

  /** The addresses the remote now has for the name it asked (it got no records with TC=1). */
  private noteAddresses(query: DnsQuery, asked: string, answer: PreparedAnswer): void {
    const addressQuestion = query.type === RecordType.A || query.type === RecordType.AAAA;
    if (!addressQuestion || query.klass !== CLASS_IN || answer.rcode !== Rcode.NOERROR) return;
    if (answer.answers.length === 0) return;
    this.addressNames.noteAnswer(asked, answer.message);
  }

  private fail(
    query: DnsQuery,
    transport: DnsTransport,
    started: number,
    at: number,
    detail: string,
    resolver = "engine",
  ): Buffer {
    this.record(query, transport, started, at, {
      rcode: Rcode.SERVFAIL,
      answers: [],
      ttl: null,
      resolver,
      detail,
    });
    return emptyAnswerTo(query, Rcode.SERVFAIL);
  }

  private internalErrorAnswer(
    header: Header | undefined,
    query: DnsQuery | undefined,
    transport: DnsTransport,
    started: number,
    at: number,
    error: unknown,
  ): Buffer | null {
    const detail = `internal error: ${error instanceof Error ? error.message : String(error)}`;
    try {
      if (query) return this.fail(query, transport, started, at, detail);
      if (!header) return null;
      this.counters.servfail++;
      return buildEmptyResponse({ id: header.id, queryFlags: header.flags, rcode: Rcode.SERVFAIL });
    } catch {
      return null;
    }
  }

  private record(
    query: DnsQuery,
    transport: DnsTransport,
    started: number,
    at: number,
    result: Pick<DnsRow, "answers" | "ttl" | "resolver" | "detail"> & { rcode: number },
    name = askedName(query),
  ): void {
    if (result.rcode === Rcode.SERVFAIL) this.counters.servfail++;
    if (result.rcode === Rcode.NXDOMAIN) this.counters.nxdomain++;
    this.table.add({
      name: name === "." ? name : name.slice(0, -1),
      type: typeName(query.type),
      answers: result.answers,
      ttl: result.ttl,
      rcode: rcodeName(result.rcode),
      resolver: result.resolver,
      detail: result.detail,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      at,
      transport,
    });
  }
}

function configFromResolvers(resolvers: ResolverSource | undefined): DnsConfigSource {
  if (resolvers === undefined) return () => readOsDnsConfig();
  if (typeof resolvers !== "function") return fixedDnsConfig(resolvers);
  return async () => fixedDnsConfig(await resolvers());
}

/** The question's name in presentation form, lower case, with its trailing dot ("." for the root). */
function askedName(query: DnsQuery): string {
  return readName(query.name, 0).toLowerCase();
}

function joinDetail(...parts: (string | null)[]): string | null {
  const present = parts.filter((part): part is string => part !== null && part !== "");
  return present.length > 0 ? present.join("; ") : null;
}
