/**
 * Throughput of one session, from the NAT table's deltas. Each row's last byte counts are kept,
 * so bytes are counted once as they arrive, and a row that closes or is removed between two
 * samples still counts towards the totals.
 */
import type { LinkSample } from "../../shared/api.js";
import type { FlowRow, TableDelta } from "../../shared/flow-row.js";

export class LinkSampler {
  private seen = new Map<number, { up: number; down: number }>();
  private upBytes = 0;
  private downBytes = 0;
  private last: { at: number; up: number; down: number };

  constructor(startedAt = Date.now()) {
    this.last = { at: startedAt, up: 0, down: 0 };
  }

  /** A new exit session: its rows are numbered afresh. Totals carry on. */
  resetRows(): void {
    this.seen = new Map();
  }

  observe(delta: TableDelta<FlowRow>): void {
    for (const row of delta.upserts) {
      const before = this.seen.get(row.id) ?? { up: 0, down: 0 };
      this.upBytes += Math.max(0, row.upBytes - before.up);
      this.downBytes += Math.max(0, row.downBytes - before.down);
      this.seen.set(row.id, { up: row.upBytes, down: row.downBytes });
    }
    for (const id of delta.removals) this.seen.delete(id);
  }

  sample(at: number, rttMs: number | null, openFlows: number): LinkSample {
    const seconds = Math.max(0.001, (at - this.last.at) / 1000);
    const sample: LinkSample = {
      at,
      upBps: Math.round((this.upBytes - this.last.up) / seconds),
      downBps: Math.round((this.downBytes - this.last.down) / seconds),
      rttMs,
      openFlows,
      upBytes: this.upBytes,
      downBytes: this.downBytes,
    };
    this.last = { at, up: this.upBytes, down: this.downBytes };
    return sample;
  }
}
