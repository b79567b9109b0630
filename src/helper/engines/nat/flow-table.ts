import type { FlowProtocol, FlowRow } from "../../../shared/flow-row.js";
import type { AddressNameSource } from "../dns/address-names.js";
import { PublishedTable } from "../published-table.js";

export interface FlowTableOptions {
  /** How often deltas are published at most. */
  publishIntervalMs?: number;
  /** How long a closed row stays visible (the UI fades it out) before it is removed. */
  closedRetentionMs?: number;
  now?: () => number;
  /** Where the names of destinations come from (the DNS engine's answers); none without it. */
  names?: AddressNameSource;
}

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
  private readonly names: AddressNameSource | undefined;
  readonly now: () => number;

  constructor(options: FlowTableOptions = {}) {
    super(options.publishIntervalMs ?? 250, (row) => ({ ...row }));
    this.closedRetentionMs = options.closedRetentionMs ?? 10_000;
    this.now = options.now ?? Date.now;
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
