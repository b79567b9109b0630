/** TCP sequence-number arithmetic: 32-bit and wrapping (RFC 9293 §3.4). */

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b as a signed distance, correct across wrap-around. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

export function seqLeq(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

export function seqGeq(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}
