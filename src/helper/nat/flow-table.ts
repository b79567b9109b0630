import type { FlowProtocol, FlowRow, TableDelta } from "../../shared/flow-row.js";

export interface FlowTableOptions {
  /** How often deltas are published at most. */
  publishIntervalMs?: number;
  /** How long a closed row stays visible (the UI fades it out) before it is removed. */
  closedRetentionMs?: number;
  now?: () => number;
}

export interface NewFlow {
  protocol: FlowProtocol;
  family: 4 | 6;
  remote: string;
  destination: string;
  state: string;
}

type DeltaListener = (delta: TableDelta<FlowRow>) => void;

/**
 * The live NAT table. Flows update their row in place (cheap counters on the hot path) and mark
 * it dirty; the table publishes copies of dirty rows at most every `publishIntervalMs`, so the
 * UI's update rate is bounded however busy the tunnel is.
 */
export class FlowTable {
  private readonly rows = new Map<number, FlowRow>();
  private readonly dirty = new Set<number>();
  private readonly removed: number[] = [];
  private readonly listeners = new Set<DeltaListener>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly publishIntervalMs: number;
  private readonly closedRetentionMs: number;
  readonly now: () => number;

  constructor(options: FlowTableOptions = {}) {
    this.publishIntervalMs = options.publishIntervalMs ?? 250;
    this.closedRetentionMs = options.closedRetentionMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  add(flow: NewFlow): FlowRow {
    const now = this.now();
    const row: FlowRow = {
      id: this.nextId++,
      ...flow,
      localSocket: null,
      upBytes: 0,
      downBytes: 0,
      upPackets: 0,
      downPackets: 0,
      startedAt: now,
      lastActivityAt: now,
      closedAt: null,
      closeReason: null,
    };
    this.rows.set(row.id, row);
    this.markDirty(row);
    return row;
  }

  markDirty(row: FlowRow): void {
    this.dirty.add(row.id);
    this.schedule();
  }

  close(row: FlowRow, reason: string): void {
    if (row.closedAt !== null) return;
    row.closedAt = this.now();
    row.closeReason = reason;
    row.state = "CLOSED";
    this.markDirty(row);
  }

  get(id: number): FlowRow | undefined {
    return this.rows.get(id);
  }

  /** Copies of every row, for a new subscriber. */
  snapshot(): FlowRow[] {
    return [...this.rows.values()].map((row) => ({ ...row }));
  }

  get size(): number {
    return this.rows.size;
  }

  /** Rows still open. */
  get openCount(): number {
    let count = 0;
    for (const row of this.rows.values()) if (row.closedAt === null) count++;
    return count;
  }

  subscribe(listener: DeltaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes now; normally driven by the timer. */
  publish(): void {
    this.timer = undefined;
    const now = this.now();
    for (const row of this.rows.values()) {
      if (row.closedAt !== null && now - row.closedAt >= this.closedRetentionMs) {
        this.rows.delete(row.id);
        this.dirty.delete(row.id);
        this.removed.push(row.id);
      }
    }
    const upserts: FlowRow[] = [];
    for (const id of this.dirty) {
      const row = this.rows.get(id);
      if (row) upserts.push({ ...row });
    }
    this.dirty.clear();
    const removals = this.removed.splice(0);
    if (upserts.length > 0 || removals.length > 0) {
      for (const listener of this.listeners) listener({ upserts, removals });
    }
    // Closed rows still waiting for removal keep the timer alive.
    if (this.rows.size > this.openCount) this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.listeners.size === 0) return;
    this.timer = setTimeout(() => this.publish(), this.publishIntervalMs);
    this.timer.unref();
  }
}
