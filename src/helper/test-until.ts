// Test support, for unit tests of any layer: waiting on real sockets and processes without sleeping
// a fixed time.

/** Resolves once `check()` is true (polled every 10 ms); rejects "timed out" after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
