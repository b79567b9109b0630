// One agent per journal at a time: flock(2) on `<journal>.lock`, in the journal's directory, which
// the agent (root) creates 0700 and checks it owns. Only a process that can open that file can
// take the lock, so another user of the remote cannot squat it (the abstract socket this
// replaces had a predictable name that anyone could bind first, and the root agent then refused
// to start and skipped its crash recovery). Like that socket, it is atomic, so two agents
// starting together cannot both take over a dead agent's journal, and the kernel frees it when
// its holder dies, SIGKILL included. The file itself stays: removing it would let a process that
// still holds the old inode open lock a file nobody else sees.
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { loadNativeAddon } from "../native/load-addon.js";
import { JournalError } from "./errors.js";
import { ensureJournalDirectory, myUid } from "./journal-file.js";

export interface InstanceLock {
  release(): Promise<void>;
}

export function lockPath(journalPath: string): string {
  return `${journalPath}.lock`;
}

/** flock(2) through the addon: Node has no binding for it. */
function flockExclusive(handle: FileHandle): boolean {
  const addon = loadNativeAddon();
  if (addon.flockExclusive === undefined) {
    throw new JournalError(
      "the agent's native addon is too old to lock the journal: rebuild it (`node scripts/build-native.mjs`)",
    );
  }
  return addon.flockExclusive(handle.fd);
}

/** The lock, or null when another process holds it. */
export async function acquireInstanceLock(journalPath: string): Promise<InstanceLock | null> {
  await ensureJournalDirectory(dirname(journalPath));
  const path = lockPath(journalPath);
  const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.uid !== myUid()) {
      throw new JournalError(`${path} is not a file this process owns: remove it and start again`);
    }
    if (!flockExclusive(handle)) {
      await handle.close();
      return null;
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  // The handle is the lock: kept referenced here until release, closed (and so unlocked) there.
  return { release: () => handle.close() };
}
