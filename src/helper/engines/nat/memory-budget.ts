/**
 * A global cap on bytes buffered by all flows together. Each flow also has its own cap; under
 * pressure the budget shrinks every flow's share, down to a floor that keeps flows moving, so a
 * flood of flows cannot exhaust memory and one greedy flow cannot starve the rest.
 */
export class MemoryBudget {
  private used = 0;
  private flows = 0;

  constructor(
    readonly limitBytes: number,
    /** The least share a flow is ever offered, so that progress is always possible. */
    readonly floorBytes = 16 * 1024,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  addFlow(): void {
    this.flows++;
  }

  removeFlow(): void {
    this.flows = Math.max(0, this.flows - 1);
  }

  /** How much one flow may buffer now, given its own cap. */
  share(perFlowCap: number): number {
    const fair = this.flows > 0 ? Math.floor(this.limitBytes / this.flows) : this.limitBytes;
    return Math.max(
      this.floorBytes,
      Math.min(perFlowCap, fair, this.limitBytes - this.used + this.floorBytes),
    );
  }

  adjust(delta: number): void {
    this.used = Math.max(0, this.used + delta);
  }
}
