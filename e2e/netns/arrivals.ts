/**
 * Things that arrive over time (a child process's events, packets from a link) and waits for the
 * first one a test is looking for, among those already here and those still to come.
 */
export interface FindOptions {
  timeoutMs: number;
  /** Take the found item out, so that the next search does not find it again. */
  take?: boolean;
  /** Why nothing more can arrive (the sender is gone), or undefined while it may. */
  gone?: () => string | undefined;
}

export class Arrivals<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();

  /** Keeps at most `limit` items, the newest, so that a long stream holds bounded memory. */
  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  /** What has arrived and was not taken, oldest first. */
  get all(): readonly T[] {
    return this.items;
  }

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.limit) this.items.shift();
    this.wake();
  }

  /** Lets waiting searches look again: something their `gone` reads has changed. */
  wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves with what `match` makes of the first item it accepts; throws naming `what` if none comes. */
  async find<R>(what: string, match: (item: T) => R | undefined, options: FindOptions): Promise<R> {
    const { timeoutMs } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let index = 0; index < this.items.length; index++) {
        const value = match(this.items[index]!);
        if (value === undefined) continue;
        if (options.take) this.items.splice(index, 1);
        return value;
      }
      const gone = options.gone?.();
      if (gone !== undefined) throw new Error(`no ${what}: ${gone}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }
}
