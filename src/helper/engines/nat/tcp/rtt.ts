/** Retransmission timeout from measured round trips (RFC 6298), with Linux's 200 ms floor. */
export const INITIAL_RTO_MS = 1_000;
export const MIN_RTO_MS = 200;
export const MAX_RTO_MS = 60_000;

export class RttEstimator {
  private srtt = 0;
  private rttvar = 0;
  private measured = false;
  private backoff = 0;

  get rto(): number {
    const base = this.measured
      ? Math.max(MIN_RTO_MS, this.srtt + Math.max(10, 4 * this.rttvar))
      : INITIAL_RTO_MS;
    return Math.min(MAX_RTO_MS, base * 2 ** this.backoff);
  }

  get smoothedRtt(): number {
    return this.srtt;
  }

  sample(rttMs: number): void {
    if (!this.measured) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      this.measured = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.backoff = 0;
  }

  /** After a timeout: double the next RTO (Karn: no sample from retransmitted data). */
  timedOut(): void {
    if (this.backoff < 10) this.backoff++;
  }

  /** New data was acknowledged: forward progress ends the backoff. */
  progressed(): void {
    this.backoff = 0;
  }
}
