// The agent's journal of system changes: every change is written down (durably) before it is
// made, so that whatever happens next — a clean exit, a lost link, a signal, a crash, SIGKILL, a
// power cut — the changes can be undone, by this agent or by the next one to start.
//
//   const journal = new Journal({ undo: systemUndo() });
//   await journal.recoverFromPreviousRun();      // first: undo what a dead agent left behind
//   await journal.recordThenApply({ kind: "route", prefix, dev }, () => iface.addRoute(prefix));
//   ...
//   await journal.undoAll();                     // on exit, link loss, SIGTERM/SIGINT/SIGHUP
//
// When `apply` fails, the entry is kept: a command that timed out or a write that failed half
// way may have changed something, and every undo is idempotent, so undoing a change that never
// happened costs nothing. The one exception is an apply that throws NothingChangedError (it
// refused before touching anything, e.g. `ip route add` answering "File exists"): then undoing
// would remove something that is not ours, so the entry is dropped.
import { AgentStillRunningError, JournalError, NothingChangedError } from "./errors.js";
import { acquireInstanceLock, type InstanceLock } from "./instance-lock.js";
import {
  readJournalFile,
  removeJournalFile,
  removeStaleTempFiles,
  writeJournalFile,
} from "./journal-file.js";
import { currentIdentity, isRunning, procFs, type ProcessIdentity, type ProcFs } from "./process-identity.js";
import { describeEntry, type JournalEntry, type UndoEntry } from "./undo-entry.js";

export const DEFAULT_JOURNAL_PATH = "/run/backhaul/journal.json";

export type UndoOutcome =
  | { status: "undone" }
  /** Nothing to do: the change is not there (any more). */
  | { status: "already-gone" }
  /** Not ours any more (someone changed it since): left as it is, and said why. */
  | { status: "left-alone"; reason: string };

/** Undoes one entry. Must be idempotent and treat "already gone" as success. */
export type UndoAction = (entry: UndoEntry) => Promise<UndoOutcome>;

export interface UndoReport {
  undone: UndoEntry[];
  alreadyGone: UndoEntry[];
  leftAlone: Array<{ entry: UndoEntry; reason: string }>;
  /** These stay in the journal, for the next undoAll or the next agent start to retry. */
  failed: Array<{ entry: UndoEntry; error: Error }>;
}

export interface RecoveryReport {
  /** The dead agent whose journal was found, or null when there was none. */
  previousOwner: ProcessIdentity | null;
  report: UndoReport;
}

export interface JournalOptions {
  undo: UndoAction;
  /** Default /run/backhaul/journal.json (tmpfs: gone after a reboot, like the TUN and routes). */
  path?: string;
  /** Default the real /proc; tests describe live and dead processes with it. */
  proc?: ProcFs;
  /** Where warnings go; stderr by default, as the agent's stdout carries the link. */
  log?: (line: string) => void;
}

type State = "new" | "open" | "closing" | "closed";

function emptyReport(): UndoReport {
  return { undone: [], alreadyGone: [], leftAlone: [], failed: [] };
}

function withoutId(entry: JournalEntry): UndoEntry {
  const { id: _id, ...rest } = entry;
  return rest as UndoEntry;
}

function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.startTime === b.startTime && a.bootId === b.bootId;
}

export class Journal {
  readonly path: string;
  private readonly undoAction: UndoAction;
  private readonly proc: ProcFs;
  private readonly log: (line: string) => void;
  private state: State = "new";
  private owner: ProcessIdentity | undefined;
  private lock: InstanceLock | undefined;
  private list: JournalEntry[] = [];
  private nextId = 1;
  /** Every operation runs after the previous one: the file always matches the list. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: JournalOptions) {
    this.path = options.path ?? DEFAULT_JOURNAL_PATH;
    this.undoAction = options.undo;
    this.proc = options.proc ?? procFs();
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** The changes in force, oldest first. */
  entries(): JournalEntry[] {
    return this.list.map((entry) => ({ ...entry }));
  }

  /**
   * Must run before any change: takes the journal over from a dead agent and undoes what it left.
   * Throws AgentStillRunningError when its owner still runs (we do not fight a live agent).
   * Entries whose undo fails are kept in our journal and retried by undoAll().
   */
  recoverFromPreviousRun(): Promise<RecoveryReport> {
    return this.serial(async () => {
      if (this.state !== "new") {
        const why = this.state === "open" ? "it runs once, before any change" : "its owner is shutting down";
        throw new JournalError(`recoverFromPreviousRun() cannot run: ${why}`);
      }
      const lock = await acquireInstanceLock(this.path);
      if (lock === null) {
        const previous = await readJournalFile(this.path).catch(() => null);
        throw new AgentStillRunningError(this.path, previous?.owner ?? null);
      }
      try {
        const recovery = await this.takeOver();
        this.lock = lock;
        return recovery;
      } catch (error) {
        await lock.release();
        throw error;
      }
    });
  }

  /**
   * Writes `entry` to the journal, durably, then runs `apply`. If the journal cannot be written,
   * `apply` does not run. See the head of this file for what happens when `apply` fails.
   */
  recordThenApply<T>(entry: UndoEntry, apply: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.assertOpen(`record ${describeEntry(entry)}`);
      const stored: JournalEntry = { ...entry, id: this.nextId++ };
      this.list.push(stored);
      try {
        await this.persist();
      } catch (error) {
        this.list.pop();
        throw new JournalError(
          `cannot write the journal ${this.path}, so ${describeEntry(entry)} was not made: ${String(error)}`,
          { cause: error },
        );
      }
      try {
        return await apply();
      } catch (error) {
        if (error instanceof NothingChangedError) await this.drop([stored.id]);
        throw error;
      }
    });
  }

  /** Undoes one entry now (e.g. a route no longer advertised) and drops it; throws if the undo fails. */
  undo(id: number): Promise<UndoOutcome> {
    return this.serial(async () => {
      this.assertOpen("undo a change");
      const entry = this.list.find((candidate) => candidate.id === id);
      if (entry === undefined) return { status: "already-gone" };
      const outcome = await this.undoAction(withoutId(entry));
      await this.drop([id]);
      return outcome;
    });
  }

  /**
   * Undoes the changes `which` selects, newest first, going on past failures, and drops them; the
   * others stay in force (a DNS mode change restores the resolver, not the routes). Failed ones
   * stay in the journal, for undoAll() or the next agent start.
   */
  undoWhere(which: (entry: UndoEntry) => boolean): Promise<UndoReport> {
    return this.serial(async () => {
      this.assertOpen("undo changes");
      const selected = this.list.filter((stored) => which(withoutId(stored)));
      const { report, failed } = await this.runUndos(selected);
      await this.drop(selected.flatMap((stored) => (failed.has(stored.id) ? [] : [stored.id])));
      return report;
    });
  }

  /**
   * Undoes every change, newest first, going on past failures; then removes the journal (or,
   * if some undo failed, keeps those entries for the next start) and releases it. After this,
   * nothing more can be recorded: it is the agent's way out.
   */
  undoAll(): Promise<UndoReport> {
    if (this.state === "new" || this.state === "open") this.state = "closing";
    return this.serial(async () => {
      if (this.lock === undefined) return emptyReport();
      const report = await this.undoEntries();
      await this.lock.release();
      this.lock = undefined;
      this.state = "closed";
      return report;
    });
  }

  private async takeOver(): Promise<RecoveryReport> {
    const me = await currentIdentity(this.proc);
    const previous = await readJournalFile(this.path);
    await removeStaleTempFiles(this.path);
    this.owner = me;
    let report = emptyReport();
    if (previous !== null) {
      if (sameProcess(previous.owner, me))
        throw new JournalError(`${this.path} is already this agent's journal`);
      if (await isRunning(previous.owner, this.proc))
        throw new AgentStillRunningError(this.path, previous.owner);
      this.list = previous.entries;
      this.nextId = Math.max(0, ...this.list.map((entry) => entry.id)) + 1;
      report = await this.undoEntries();
    } else {
      await this.persist();
    }
    if (this.state === "new") this.state = "open";
    return { previousOwner: previous?.owner ?? null, report };
  }

  /** All of them, newest first; the failed ones stay in the journal. */
  private async undoEntries(): Promise<UndoReport> {
    const { report, failed } = await this.runUndos(this.list);
    this.list = this.list.filter((stored) => failed.has(stored.id));
    // Written once at the end: every undo is idempotent, so a crash half way only repeats some.
    await this.persist();
    return report;
  }

  /** Newest first, each on its own: one failure does not stop the others. Changes no list. */
  private async runUndos(
    entries: readonly JournalEntry[],
  ): Promise<{ report: UndoReport; failed: Set<number> }> {
    const report = emptyReport();
    const failed = new Set<number>();
    for (const stored of [...entries].reverse()) {
      const entry = withoutId(stored);
      try {
        const outcome = await this.undoAction(entry);
        if (outcome.status === "undone") report.undone.push(entry);
        else if (outcome.status === "already-gone") report.alreadyGone.push(entry);
        else report.leftAlone.push({ entry, reason: outcome.reason });
      } catch (error) {
        report.failed.push({ entry, error: error instanceof Error ? error : new Error(String(error)) });
        failed.add(stored.id);
      }
    }
    return { report, failed };
  }

  private async drop(ids: readonly number[]): Promise<void> {
    this.list = this.list.filter((entry) => !ids.includes(entry.id));
    try {
      await this.persist();
    } catch (error) {
      // Harmless: the entry stays on disk and its undo is idempotent.
      this.log(`backhaul: could not update the journal ${this.path}: ${String(error)}`);
    }
  }

  /** The journal file mirrors the list; an empty list at the end of the agent's life is no file. */
  private async persist(): Promise<void> {
    if (this.owner === undefined) throw new JournalError("the journal has no owner yet");
    if (this.list.length === 0 && this.state === "closing") {
      await removeJournalFile(this.path);
      return;
    }
    await writeJournalFile(this.path, { version: 1, owner: this.owner, entries: this.list });
  }

  private assertOpen(action: string): void {
    if (this.state === "new") {
      throw new JournalError(`cannot ${action}: call recoverFromPreviousRun() first`);
    }
    if (this.state !== "open") throw new JournalError(`cannot ${action}: its owner is shutting down`);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Lines for the user: what was undone, what was left alone and why, what failed. */
export function describeUndoReport(report: UndoReport): string[] {
  return [
    ...report.undone.map((entry) => `undone: ${describeEntry(entry)}`),
    ...report.alreadyGone.map((entry) => `already gone: ${describeEntry(entry)}`),
    ...report.leftAlone.map(({ entry, reason }) => `left alone: ${describeEntry(entry)} (${reason})`),
    ...report.failed.map(({ entry, error }) => `FAILED to undo ${describeEntry(entry)}: ${error.message}`),
  ];
}
