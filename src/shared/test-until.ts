// Test support, for unit tests of any layer: waiting on real sockets and processes without sleeping
// a fixed time.

/** Resolves once `check()` is true (polled every 10 ms); rejects "timed out" (waiting for `what`) after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5_000, what?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(what ? `timed out waiting for ${what}` : "timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
