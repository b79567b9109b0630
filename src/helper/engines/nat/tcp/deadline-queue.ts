/**
 * The forwarder's flows ordered by deadline: a binary min-heap with lazy entries, so that a
 * wakeup costs O(due · log n) instead of a pass over every flow. A helper holding thousands of
 * flows in TIME-WAIT (a remote opening a connection per request) woke every few milliseconds and
 * walked all of them each time.
 *
 * Deadlines move on every segment (an ACK pushes the RTO back), so an entry is not moved when its
 * flow's deadline moves later: it is left to come due and is then queued again at the new time.
 * A deadline that moves earlier gets a new entry; the old one is stale, known by not matching
 * `scheduled`, and dropped when it surfaces or when stale entries outnumber live ones.
 */

interface Entry<T> {
  at: number;
  item: T;
}

export class DeadlineQueue<T> {
  private heap: Entry<T>[] = [];
  /** Each queued item's live entry time. */
  private readonly scheduled = new Map<T, number>();

  /** Items with a live entry. */
  get size(): number {
    return this.scheduled.size;
  }

  /** Entries held, stale ones included (tests: stale entries stay bounded). */
  get entries(): number {
    return this.heap.length;
  }

  /** The earliest entry's time (possibly stale: a wakeup then finds nothing due); 0 when none. */
  get earliest(): number {
    return this.heap[0]?.at ?? 0;
  }

  /** Makes sure `item` comes due by `at`; an entry already due sooner is kept. */
  schedule(item: T, at: number): void {
    const current = this.scheduled.get(item);
    if (current !== undefined && current <= at) return;
    this.scheduled.set(item, at);
    this.push({ at, item });
    if (this.heap.length > 2 * this.scheduled.size + 64) this.compact();
  }

  /** Forgets `item` (it closed): its entries become stale. */
  delete(item: T): void {
    this.scheduled.delete(item);
  }

  /** Removes and returns the items whose entries are due at or before `until`, each once. */
  takeDue(until: number): T[] {
    const due: T[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= until) {
      const { at, item } = this.pop();
      if (this.scheduled.get(item) !== at) continue;
      this.scheduled.delete(item);
      due.push(item);
    }
    return due;
  }

  clear(): void {
    this.heap = [];
    this.scheduled.clear();
  }

  /** Rebuilds the heap from the live entries only. */
  private compact(): void {
    this.heap = [...this.scheduled].map(([item, at]) => ({ at, item }));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(entry: Entry<T>): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry<T> {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(start: number): void {
    const heap = this.heap;
    const entry = heap[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.at < heap[child]!.at) child++;
      if (heap[child]!.at >= entry.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }
}
