// How every namespace benchmark starts and ends: its error text, shared cleanups, the results
// printed and written, and the exit code.

export const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** One run of `run`, however often it is asked for: a signal and a finally may both want it. */
export function once(run: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => (promise ??= run());
}

/** Prints the table, writes the JSON, says how long it all took; the exit code: 1 if any row failed. */
export function publishResults(results: {
  table: string;
  out: string;
  write: () => void;
  started: number;
  failed: boolean;
  log: (line: string) => void;
}): number {
  process.stdout.write(`${results.table}\n`);
  results.write();
  results.log(`done in ${((Date.now() - results.started) / 1000).toFixed(0)} s; results in ${results.out}`);
  return results.failed ? 1 : 0;
}

/** Runs `main` and exits with its code; if it throws, says why and cleans up before exiting 1. */
export function runBench(
  main: () => Promise<number>,
  log: (line: string) => void,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      log(message(error));
      void cleanup().finally(() => process.exit(1));
    },
  );
}
