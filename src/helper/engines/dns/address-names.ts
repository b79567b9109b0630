/**
 * Which name the remote last resolved to each address, so that a flow to 10.1.2.3 reads as
 * vault.corp.example. Fed by every answer the DNS engine gives the remote (cache hits too: the
 * most recent answer the remote received wins), read by the NAT engine once per new flow.
 *
 * CNAME chains are followed to the name the remote asked for: vault.corp.example CNAME
 * lb-7.corp.example, lb-7.corp.example A 10.1.2.3 maps 10.1.2.3 to vault.corp.example. Address
 * records whose owner the asked name does not reach (glue, a hostile resolver's extras) are
 * ignored.
 *
 * Bounded: at most `maxEntries` addresses, least recently used evicted first, whatever the remote
 * asks. An entry lives for its TTL plus a grace (an hour by default), because the remote's
 * programs keep using an address after its TTL (connection pools, JVM and nscd caches, a psql
 * reconnecting), and the name only labels a flow: a newer answer for the address replaces it.
 */
import { formatAddress } from "../packet/index.js";
import { CLASS_IN, parseMessage, readName, RecordType, type WireRecord } from "./wire.js";

export interface AddressNamesOptions {
  maxEntries?: number;
  /** How long an entry outlives its TTL. */
  graceMs?: number;
  /** TTLs above this count as this (a week-long TTL should not pin a name for a week). */
  maxTtlSeconds?: number;
  now?: () => number;
}

/** What the NAT engine asks: the name behind an address in its text form, if one is known. */
export interface AddressNameSource {
  nameOf(address: string): string | undefined;
}

interface Entry {
  name: string;
  expiresAt: number;
}

/** What one answer maps, for the name it was asked as: worked out once, noted on every hit. */
interface AnswerMapping {
  /** The asked name, lower case, in presentation form. */
  asked: string;
  /** The name flows show; null for the root, which labels nothing. */
  name: string | null;
  addresses: readonly { address: string; ttlMs: number }[];
}

export const DEFAULT_ADDRESS_NAMES = {
  maxEntries: 10_000,
  graceMs: 60 * 60 * 1000,
  maxTtlSeconds: 24 * 60 * 60,
} as const;

export class AddressNames implements AddressNameSource {
  /** Insertion order is recency: the first key is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  /**
   * Keyed by the answer's Buffer: the DNS engine notes the same cached answer on every cache hit,
   * and reading it again each time was the largest part of a hit's time in the engine (issue 17).
   */
  private readonly mappings = new WeakMap<Buffer, AnswerMapping>();
  private readonly maxEntries: number;
  private readonly graceMs: number;
  private readonly maxTtlSeconds: number;
  private readonly now: () => number;

  constructor(options: AddressNamesOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_ADDRESS_NAMES.maxEntries;
    this.graceMs = options.graceMs ?? DEFAULT_ADDRESS_NAMES.graceMs;
    this.maxTtlSeconds = options.maxTtlSeconds ?? DEFAULT_ADDRESS_NAMES.maxTtlSeconds;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Notes the addresses that `message` (a whole DNS response, parseable) gives for `asked`, the
   * name the remote asked for in presentation form ("vault.corp.example."). `message` is read the
   * first time and never again: the caller does not write it afterwards (the engine's answers are
   * immutable), so noting it again costs only the map's updates. Throws only WireFormatError, for
   * a message that does not parse.
   */
  noteAnswer(asked: string, message: Buffer): void {
    const lower = asked.toLowerCase();
    let mapping = this.mappings.get(message);
    if (mapping?.asked !== lower) {
      mapping = mapAnswer(lower, message, this.maxTtlSeconds);
      this.mappings.set(message, mapping);
    }
    const { name, addresses } = mapping;
    if (name === null) return;
    const now = this.now();
    for (const { address, ttlMs } of addresses)
      this.set(address, { name, expiresAt: now + ttlMs + this.graceMs });
  }

  nameOf(address: string): string | undefined {
    const entry = this.entries.get(address);
    if (!entry) return undefined;
    this.entries.delete(address);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(address, entry);
    return entry.name;
  }

  clear(): void {
    this.entries.clear();
  }

  private set(address: string, entry: Entry): void {
    this.entries.delete(address);
    this.entries.set(address, entry);
    if (this.entries.size <= this.maxEntries) return;
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}

/** The addresses `message` answers for `asked` (lower case), through its CNAMEs, each with its TTL. */
function mapAnswer(asked: string, message: Buffer, maxTtlSeconds: number): AnswerMapping {
  const name = displayName(asked);
  if (name === null) return { asked, name, addresses: [] };
  const answers = parseMessage(message).records.filter(
    (record) => record.section === "answer" && record.klass === CLASS_IN,
  );
  const owners = answers.map((record) => readName(message, record.start).toLowerCase());
  const reached = reachedNames(asked, message, answers, owners);
  const addresses: { address: string; ttlMs: number }[] = [];
  answers.forEach((record, index) => {
    const isAddress =
      (record.type === RecordType.A && record.rdlength === 4) ||
      (record.type === RecordType.AAAA && record.rdlength === 16);
    if (!isAddress || !reached.has(owners[index]!)) return;
    const address = formatAddress(message.subarray(record.rdataOffset, record.rdataOffset + record.rdlength));
    addresses.push({ address, ttlMs: Math.min(record.ttl, maxTtlSeconds) * 1000 });
  });
  return { asked, name, addresses };
}

/**
 * The owner names `asked` reaches through the answer's CNAMEs, in any order they come. Each pass
 * adds at least one name or ends, so the passes are bounded by the number of CNAMEs.
 */
function reachedNames(
  asked: string,
  message: Buffer,
  answers: readonly WireRecord[],
  owners: readonly string[],
): Set<string> {
  const reached = new Set([asked]);
  const cnames = answers.flatMap((record, index) =>
    record.type === RecordType.CNAME ? [{ owner: owners[index]!, record }] : [],
  );
  const targets = new Map<WireRecord, string>();
  for (let grew = true; grew;) {
    grew = false;
    for (const { owner, record } of cnames) {
      if (!reached.has(owner) || targets.has(record)) continue;
      const target = readName(message, record.rdataOffset).toLowerCase();
      targets.set(record, target);
      if (!reached.has(target)) {
        reached.add(target);
        grew = true;
      }
    }
  }
  return reached;
}

/** "vault.corp.example." (lower case) → "vault.corp.example"; null for the root. */
function displayName(asked: string): string | null {
  if (asked === ".") return null;
  return asked.endsWith(".") ? asked.slice(0, -1) : asked;
}
