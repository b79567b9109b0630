/**
 * Where the local helper journals its changes to this computer (the TUN of `--remote-route`, its
 * routes, resolver rules), and how a dead helper's journal is found and undone.
 *
 * One journal per TUN device, `DIR/bhlN.json`, in a directory of the user running the helper:
 * /run/backhaul/local/… for root (the elevated helper; /var/run on macOS), else $XDG_RUNTIME_DIR/backhaul/local/…
 * (or ~/.local/state/backhaul/local/…). The directory is created 0700 and must be owned by the
 * helper's uid and closed to others, each file 0600 and owned by that uid, read without following
 * symlinks (system/journal-file.ts): another local user can neither write entries for root to
 * undo nor swap the file. On Linux the directory is per network namespace (its inode), so a helper
 * never undoes what another namespace's helper changed.
 *
 * A slot is held by flock (system/instance-lock.ts) while its helper lives: two sessions, each with
 * its own helper or not, take bhl0 and bhl1. A slot whose owner is dead (SIGKILL, crash) is undone
 * by the next helper that starts or the next TUN that needs a slot.
 */
import { readdir, readlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { linkExists, execFileRunner, type CommandRunner } from "../system/command.js";
import { AgentStillRunningError } from "../system/errors.js";
import { describeUndoReport, Journal } from "../system/journal.js";
import { systemUndo } from "../system/system-undo.js";
import type { TunDevice } from "../system/tun/index.js";
import type { BeforeWrite } from "../system/dns/resolv-conf.js";

/** TUN names of this computer's entrances: bhl0, bhl1, … ("backhaul local"). */
export const LOCAL_TUN_PREFIX = "bhl";
const MAX_SLOTS = 32;

/** The per-namespace part of the directory: "net-4026531840". */
async function networkNamespaceTag(): Promise<string> {
  try {
    const link = await readlink("/proc/self/ns/net");
    return `net-${/\[(\d+)\]/.exec(link)?.[1] ?? "unknown"}`;
  } catch {
    return "default";
  }
}

export async function localJournalDirectory(): Promise<string> {
  const uid = process.getuid?.() ?? null;
  const base =
    uid === 0
      ? process.platform === "darwin"
        ? "/var/run/backhaul"
        : "/run/backhaul"
      : join(process.env.XDG_RUNTIME_DIR ?? join(homedir(), ".local", "state"), "backhaul");
  return join(base, "local", await networkNamespaceTag());
}

export interface JournalSlot {
  /** The TUN name this slot's journal owns, e.g. "bhl0". */
  name: string;
  journal: Journal;
  /** TUN devices of this slot, closed by its undo (systemUndo's openTuns). */
  openTuns: Map<string, TunDevice>;
}

export interface SlotOptions {
  dir: string;
  log(line: string): void;
  run?: CommandRunner;
  /** Checked before resolv.conf is restored (tests: that it is their namespace's file). */
  beforeResolvConfWrite?: BeforeWrite;
  /** Whether an interface of that name exists already; `ip link` by default (Linux). */
  nameInUse?: (name: string) => Promise<boolean>;
}

function slotJournal(options: SlotOptions, name: string): JournalSlot {
  const openTuns = new Map<string, TunDevice>();
  const undo = systemUndo({
    openTuns,
    run: options.run,
    beforeResolvConfWrite: options.beforeResolvConfWrite,
  });
  const journal = new Journal({ undo, path: join(options.dir, `${name}.json`), log: options.log });
  return { name, journal, openTuns };
}

/**
 * Takes the first slot no live helper holds, undoing what a dead one left in it first. A slot
 * whose interface name someone else uses is skipped.
 */
export async function takeJournalSlot(options: SlotOptions): Promise<JournalSlot> {
  const run = options.run ?? execFileRunner;
  for (let n = 0; n < MAX_SLOTS; n++) {
    const slot = slotJournal(options, `${LOCAL_TUN_PREFIX}${n}`);
    try {
      const recovery = await slot.journal.recoverFromPreviousRun();
      if (recovery.previousOwner !== null) {
        for (const line of describeUndoReport(recovery.report))
          options.log(`a previous helper's ${slot.name}: ${line}`);
      }
    } catch (error) {
      if (error instanceof AgentStillRunningError) continue;
      throw error;
    }
    if (await (options.nameInUse ?? ((name: string) => linkExists(run, name)))(slot.name)) {
      await slot.journal.undoAll();
      continue;
    }
    return slot;
  }
  throw new Error(
    `every TUN name from ${LOCAL_TUN_PREFIX}0 to ${LOCAL_TUN_PREFIX}${MAX_SLOTS - 1} is in use`,
  );
}

/**
 * At the helper's start: undoes every journal in `dir` whose helper is dead, so that a SIGKILL
 * leaves nothing behind past the next start. Journals of live helpers are left to them.
 */
export async function recoverLocalJournals(options: SlotOptions): Promise<void> {
  let names: string[];
  try {
    names = await readdir(options.dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  for (const file of names) {
    const match = new RegExp(`^(${LOCAL_TUN_PREFIX}\\d+)\\.json$`).exec(file);
    if (match?.[1] === undefined) continue;
    const slot = slotJournal(options, match[1]);
    try {
      const recovery = await slot.journal.recoverFromPreviousRun();
      for (const line of describeUndoReport(recovery.report))
        options.log(`a previous helper's ${slot.name}: ${line}`);
      await slot.journal.undoAll();
    } catch (error) {
      if (!(error instanceof AgentStillRunningError)) options.log(`${file}: ${String(error)}`);
    }
  }
}
