// A time limit that stops counting while the user is being asked something (a passphrase, a new
// host key): an unreachable host must fail fast, but a person typing must not be timed out.

export class Deadline {
  private remaining: number;
  private startedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pauses = 0;
  private done = false;

  constructor(
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.remaining = ms;
    this.start();
  }

  get remainingMs(): number {
    if (this.startedAt === undefined) return this.remaining;
    return Math.max(0, this.remaining - (Date.now() - this.startedAt));
  }

  /** Runs `ask` with the clock stopped. Nested and concurrent calls are fine. */
  async paused<T>(ask: () => Promise<T>): Promise<T> {
    this.pause();
    try {
      return await ask();
    } finally {
      this.resume();
    }
  }

  cancel(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (this.done) return;
    this.startedAt = Date.now();
    this.timer = setTimeout(() => {
      this.done = true;
      this.onExpire();
    }, this.remaining);
  }

  private pause(): void {
    if (this.pauses++ > 0 || this.done) return;
    this.remaining = this.remainingMs;
    this.startedAt = undefined;
    clearTimeout(this.timer);
  }

  private resume(): void {
    if (--this.pauses > 0) return;
    this.start();
  }
}
