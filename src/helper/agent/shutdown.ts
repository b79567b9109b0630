// The agent's ways out, all leading through journal.undoAll() exactly once: SIGTERM, SIGINT,
// SIGHUP (the SSH session hanging up), the link's stream ending (link loss), an uncaught error,
// or the agent deciding to stop. SIGKILL and crashes cannot be caught: the next agent's
// recoverFromPreviousRun() covers them.
import { describeUndoReport, type Journal, type UndoReport } from "../system/journal.js";

export interface ShutdownOptions {
  log?: (line: string) => void;
  /** Default process.exit; tests observe the code instead. */
  exit?: (code: number) => void;
  signals?: readonly NodeJS.Signals[];
  /** Told the report before exit, e.g. to send it to the user while the link is still up. */
  onUndone?: (report: UndoReport, reason: string) => void;
}

export interface Shutdown {
  /** Undoes everything and exits: 0 when every change was undone, 1 otherwise. */
  stop(reason: string): Promise<void>;
  /** Link loss: the stream ending or closing stops the agent. */
  watchStream(stream: NodeJS.ReadableStream, what: string): void;
  /** Removes the signal and error handlers (for tests). */
  dispose(): void;
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

export function undoOnShutdown(journal: Journal, options: ShutdownOptions = {}): Shutdown {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping: Promise<void> | undefined;

  const stop = (reason: string): Promise<void> => {
    if (stopping !== undefined) {
      log(`backhaul agent: ${reason} while already stopping; still undoing changes`);
      return stopping;
    }
    log(`backhaul agent: ${reason}: undoing system changes`);
    stopping = journal.undoAll().then(
      (report) => {
        for (const line of describeUndoReport(report)) log(`backhaul agent: ${line}`);
        options.onUndone?.(report, reason);
        exit(report.failed.length === 0 ? 0 : 1);
      },
      (error: unknown) => {
        log(`backhaul agent: undoing changes failed: ${String(error)}`);
        exit(1);
      },
    );
    return stopping;
  };

  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of options.signals ?? DEFAULT_SIGNALS) {
    const handler = (): void => void stop(`received ${signal}`);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  const onError = (error: unknown): void =>
    void stop(`unexpected error: ${error instanceof Error ? error.stack : String(error)}`);
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);

  return {
    stop,
    watchStream(stream, what) {
      stream.once("end", () => void stop(`${what} ended`));
      stream.once("close", () => void stop(`${what} closed`));
    },
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      process.off("uncaughtException", onError);
      process.off("unhandledRejection", onError);
    },
  };
}
