/**
 * A copy of a table that lives in the helper process, kept current from its deltas, so the CLI
 * and the window read it as if it were local.
 */
import type { FlowRow, TableDelta } from "../../../shared/flow-row.js";
import type { LiveFlowTable, LiveTable } from "../exit-handle.js";

export class MirrorTable<Row extends { id: number }> implements LiveTable<Row> {
  protected readonly rows = new Map<number, Row>();
  private readonly listeners = new Set<(delta: TableDelta<Row>) => void>();

  apply(delta: TableDelta<Row>): void {
    for (const row of delta.upserts) this.rows.set(row.id, row);
    for (const id of delta.removals) this.rows.delete(id);
    for (const listener of this.listeners) listener(delta);
  }

  snapshot(): Row[] {
    return [...this.rows.values()].map((row) => ({ ...row }));
  }

  subscribe(listener: (delta: TableDelta<Row>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class MirrorFlowTable extends MirrorTable<FlowRow> implements LiveFlowTable {
  get openCount(): number {
    let count = 0;
    for (const row of this.rows.values()) if (row.closedAt === null) count++;
    return count;
  }
}
