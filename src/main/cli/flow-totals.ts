import type { FlowRow, TableDelta } from "../../shared/flow-row.js";

/**
 * Bytes up and down over the whole session, for the status line: a flow that closed and left the
 * table still counts, which a sum over the table's rows would forget.
 */
export class FlowTotals {
  up = 0;
  down = 0;
  private seen = new Map<number, { up: number; down: number }>();

  /** A new exit session (a reconnect): its table numbers its flows afresh. */
  newTable(): void {
    this.seen = new Map();
  }

  apply(delta: TableDelta<FlowRow>): void {
    for (const row of delta.upserts) {
      const last = this.seen.get(row.id);
      this.up += row.upBytes - (last?.up ?? 0);
      this.down += row.downBytes - (last?.down ?? 0);
      this.seen.set(row.id, { up: row.upBytes, down: row.downBytes });
    }
    for (const id of delta.removals) this.seen.delete(id);
  }
}
