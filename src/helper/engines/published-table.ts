import type { TableDelta } from "../../shared/flow-row.js";

type DeltaListener<Row> = (delta: TableDelta<Row>) => void;

/**
 * A live table published to subscribers, as the NAT's flow table and the DNS table are: a
 * subscriber takes a `snapshot()`, then gets `{upserts, removals}` deltas at most every
 * `publishIntervalMs`, so the UI's update rate is bounded however busy the tunnel is. Upserts
 * and snapshots are copies (`copy`): the table's own rows may change in place.
 *
 * What counts as a change is the subclass's call (`markChanged`, `forgetChange`, `noteRemoved`);
 * removals are only recorded while someone listens, and the last subscriber to leave drops
 * whatever was pending: a new subscriber starts from a snapshot anyway.
 */
export class PublishedTable<Row extends { readonly id: number }> {
  protected readonly rows = new Map<number, Row>();
  private readonly changed = new Set<number>();
  private readonly removed: number[] = [];
  private readonly listeners = new Set<DeltaListener<Row>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly publishIntervalMs: number,
    private readonly copy: (row: Row) => Row,
  ) {}

  get(id: number): Row | undefined {
    return this.rows.get(id);
  }

  get size(): number {
    return this.rows.size;
  }

  /** Copies of every row, oldest first, for a new subscriber. */
  snapshot(): Row[] {
    return [...this.rows.values()].map(this.copy);
  }

  subscribe(listener: DeltaListener<Row>): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.forgetPending();
    };
  }

  /** Publishes now; normally driven by the timer. */
  publish(): void {
    this.timer = undefined;
    const upserts: Row[] = [];
    for (const id of this.changed) {
      const row = this.rows.get(id);
      if (row) upserts.push(this.copy(row));
    }
    this.changed.clear();
    const removals = this.removed.splice(0);
    if (upserts.length === 0 && removals.length === 0) return;
    for (const listener of this.listeners) listener({ upserts, removals });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  protected get listening(): boolean {
    return this.listeners.size > 0;
  }

  /** The row (already in `rows`) goes out with the next delta. */
  protected markChanged(id: number): void {
    this.changed.add(id);
    this.schedule();
  }

  /** Drops a pending change of `id`; whether there was one. */
  protected forgetChange(id: number): boolean {
    return this.changed.delete(id);
  }

  /** `id` (already gone from `rows`) goes out as a removal with the next delta, if anyone listens. */
  protected noteRemoved(id: number): void {
    if (this.listening) this.removed.push(id);
  }

  protected schedule(): void {
    if (this.timer || !this.listening) return;
    this.timer = setTimeout(() => this.publish(), this.publishIntervalMs);
    this.timer.unref();
  }

  private forgetPending(): void {
    this.changed.clear();
    this.removed.length = 0;
    this.stop();
  }
}
