import type { FlowDirection, FlowProtocol, FlowRow, TableDelta } from "../../../shared/flow-row.js";
import type { AddressNameSource } from "../dns/address-names.js";
import { PublishedTable } from "../published-table.js";

export interface FlowTableOptions {
  /** How often deltas are published at most. */
  publishIntervalMs?: number;
  /** How long a closed row stays visible (the UI fades it out) before it is removed. */
  closedRetentionMs?: number;
  now?: () => number;
  /** Which way this table's flows go (flow-row.ts); default "remote-to-local", the local exit's. */
  direction?: FlowDirection;
  /** Where the names of destinations come from (the DNS engine's answers); none without it. */
  names?: AddressNameSource;
}

/**
 * The agent's rows (FLOWS frames) are numbered by the agent: in this table they are offset by
 * 2^40, so they never meet this table's own ids (that would take 2^40 flows).
 */
export const MIRRORED_ID_BASE = 2 ** 40;

export interface NewFlow {
  protocol: FlowProtocol;
  family: 4 | 6;
  remote: string;
  destination: string;
  /** FlowRow.name: from `nameOf` for an address, or the name a stream was opened with. */
  name: string | null;
  state: string;
}

/**
 * The live NAT table, a PublishedTable. Flows update their row in place (cheap counters on the
 * hot path) and mark it dirty; a closed row stays `closedRetentionMs` (the UI fades it out).
 */
export class FlowTable extends PublishedTable<FlowRow> {
  private nextId = 1;
  private readonly closedRetentionMs: number;
  private readonly direction: FlowDirection;
  private readonly names: AddressNameSource | undefined;
  readonly now: () => number;

  constructor(options: FlowTableOptions = {}) {
    super(options.publishIntervalMs ?? 250, (row) => ({ ...row }));
    this.closedRetentionMs = options.closedRetentionMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.direction = options.direction ?? "remote-to-local";
    this.names = options.names;
  }

  /** The name the remote resolved `address` (text form, no port) from; looked up once per new flow. */
  nameOf(address: string): string | null {
    return this.names?.nameOf(address) ?? null;
  }

  add(flow: NewFlow): FlowRow {
    const now = this.now();
    const row: FlowRow = {
      id: this.nextId++,
      direction: this.direction,
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

  /**
   * Rows of another table (the agent's exit, from FLOWS): kept and published beside this table's
   * own, so one NAT table shows both directions. Their ids are offset (MIRRORED_ID_BASE).
   */
  mirror(delta: TableDelta<FlowRow>): void {
    for (const row of delta.upserts) {
      const id = MIRRORED_ID_BASE + row.id;
      this.rows.set(id, { ...row, id });
      this.markChanged(id);
    }
    for (const removed of delta.removals) {
      const id = MIRRORED_ID_BASE + removed;
      if (!this.rows.delete(id)) continue;
      this.forgetChange(id);
      this.noteRemoved(id);
    }
  }

  markDirty(row: FlowRow): void {
    this.markChanged(row.id);
  }

  close(row: FlowRow, reason: string): void {
    if (row.closedAt !== null) return;
    row.closedAt = this.now();
    row.closeReason = reason;
    row.state = "CLOSED";
    this.markDirty(row);
  }

  /** Rows still open. */
  get openCount(): number {
    let count = 0;
    for (const row of this.rows.values()) if (row.closedAt === null) count++;
    return count;
  }

  /** Removes the closed rows whose time is up, then publishes. */
  override publish(): void {
    const now = this.now();
    for (const row of this.rows.values()) {
      if (row.closedAt !== null && now - row.closedAt >= this.closedRetentionMs) {
        this.rows.delete(row.id);
        this.forgetChange(row.id);
        this.noteRemoved(row.id);
      }
    }
    super.publish();
    // Closed rows still waiting for removal keep the timer alive.
    if (this.rows.size > this.openCount) this.schedule();
  }
}
