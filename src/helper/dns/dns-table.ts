import type { DnsRow } from "../../shared/dns-row.js";
import type { TableDelta } from "../../shared/flow-row.js";

export interface DnsTableOptions {
  /** How often deltas are published at most. */
  publishIntervalMs?: number;
  /** Rows kept; the oldest goes when a new one would exceed it. */
  maxRows?: number;
}

export type NewDnsRow = Omit<DnsRow, "id">;

type DeltaListener = (delta: TableDelta<DnsRow>) => void;

/**
 * The live DNS table, published like the NAT's flow table: subscribers take a `snapshot()`, then
 * get `{upserts, removals}` deltas at most every `publishIntervalMs`. A row is complete when
 * added and never changes, so an upsert is always a new row. Changes are only recorded while
 * someone listens: a new subscriber starts from a snapshot anyway.
 */
export class DnsTable {
  private readonly rows = new Map<number, DnsRow>();
  private readonly added = new Set<number>();
  private readonly removed: number[] = [];
  private readonly listeners = new Set<DeltaListener>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly publishIntervalMs: number;
  private readonly maxRows: number;

  constructor(options: DnsTableOptions = {}) {
    this.publishIntervalMs = options.publishIntervalMs ?? 250;
    this.maxRows = Math.max(1, options.maxRows ?? 2_000);
  }

  add(fields: NewDnsRow): DnsRow {
    const row: DnsRow = { id: this.nextId++, ...fields };
    this.rows.set(row.id, row);
    if (this.listeners.size > 0) this.added.add(row.id);
    for (const oldest of this.rows.keys()) {
      if (this.rows.size <= this.maxRows) break;
      this.rows.delete(oldest);
      // A row nobody has seen yet is simply forgotten.
      if (!this.added.delete(oldest) && this.listeners.size > 0) this.removed.push(oldest);
    }
    this.schedule();
    return row;
  }

  get(id: number): DnsRow | undefined {
    return this.rows.get(id);
  }

  /** Copies of every row, oldest first, for a new subscriber. */
  snapshot(): DnsRow[] {
    return [...this.rows.values()].map((row) => ({ ...row, answers: [...row.answers] }));
  }

  get size(): number {
    return this.rows.size;
  }

  subscribe(listener: DeltaListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.forgetPending();
    };
  }

  /** Publishes now; normally driven by the timer. */
  publish(): void {
    this.timer = undefined;
    const upserts: DnsRow[] = [];
    for (const id of this.added) {
      const row = this.rows.get(id);
      if (row) upserts.push({ ...row, answers: [...row.answers] });
    }
    this.added.clear();
    const removals = this.removed.splice(0);
    if (upserts.length === 0 && removals.length === 0) return;
    for (const listener of this.listeners) listener({ upserts, removals });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private forgetPending(): void {
    this.added.clear();
    this.removed.length = 0;
    this.stop();
  }

  private schedule(): void {
    if (this.timer || this.listeners.size === 0) return;
    this.timer = setTimeout(() => this.publish(), this.publishIntervalMs);
    this.timer.unref();
  }
}
