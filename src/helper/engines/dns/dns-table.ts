import type { DnsRow } from "../../../shared/dns-row.js";
import { PublishedTable } from "../published-table.js";

export interface DnsTableOptions {
  /** How often deltas are published at most. */
  publishIntervalMs?: number;
  /** Rows kept; the oldest goes when a new one would exceed it. */
  maxRows?: number;
}

export type NewDnsRow = Omit<DnsRow, "id">;

/**
 * The live DNS table, published like the NAT's flow table (PublishedTable). A row is complete
 * when added and never changes, so an upsert is always a new row, and a row still pending is one
 * no subscriber has seen. Additions are only recorded while someone listens.
 */
export class DnsTable extends PublishedTable<DnsRow> {
  private nextId = 1;
  private readonly maxRows: number;

  constructor(options: DnsTableOptions = {}) {
    super(options.publishIntervalMs ?? 250, (row) => ({ ...row, answers: [...row.answers] }));
    this.maxRows = Math.max(1, options.maxRows ?? 2_000);
  }

  add(fields: NewDnsRow): DnsRow {
    const row: DnsRow = { id: this.nextId++, ...fields };
    this.rows.set(row.id, row);
    if (this.listening) this.markChanged(row.id);
    for (const oldest of this.rows.keys()) {
      if (this.rows.size <= this.maxRows) break;
      this.rows.delete(oldest);
      // A row nobody has seen yet is simply forgotten.
      if (!this.forgetChange(oldest)) this.noteRemoved(oldest);
    }
    return row;
  }
}
