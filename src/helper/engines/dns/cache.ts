/**
 * Answers by cache key, each kept for its own TTL, least recently used evicted first, bounded in
 * entries and in bytes (an answer can be 64 KiB).
 */
import type { PreparedAnswer } from "./answer.js";
import { lowerName } from "./wire.js";
import type { DnsQuery } from "./query.js";

export interface DnsCacheOptions {
  maxEntries?: number;
  maxBytes?: number;
  now?: () => number;
}

export interface CacheHit {
  answer: PreparedAnswer;
  /** Whole seconds since it was stored: what to take off each TTL. */
  ageSeconds: number;
}

interface Entry {
  answer: PreparedAnswer;
  storedAt: number;
  expiresAt: number;
  bytes: number;
}

/** Per-entry bookkeeping on top of the message itself, roughly. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Name (case-insensitive), type, class, and the two bits that change an answer's content: DO
 * (signatures included) and CD (validation skipped). The remote's EDNS options are not sent
 * upstream, so they are not part of the key.
 */
export function cacheKey(query: DnsQuery): string {
  const bits = (query.edns?.dnssecOk ? 1 : 0) | (query.checkingDisabled ? 2 : 0);
  return `${lowerName(query.name).toString("latin1")}|${query.type}|${query.klass}|${bits}`;
}

export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private totalBytes = 0;

  constructor(options: DnsCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): CacheHit | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.remove(key, entry);
      return undefined;
    }
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { answer: entry.answer, ageSeconds: Math.floor((now - entry.storedAt) / 1000) };
  }

  /** Stores for `answer.cacheTtl` seconds; an answer with none is not stored. */
  set(key: string, answer: PreparedAnswer): void {
    if (answer.cacheTtl <= 0) return;
    const bytes = answer.message.length + key.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    const now = this.now();
    this.entries.set(key, { answer, storedAt: now, expiresAt: now + answer.cacheTtl * 1000, bytes });
    this.totalBytes += bytes;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.totalBytes <= this.maxBytes) break;
      this.remove(oldestKey, oldest);
    }
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}
