// The journal on disk. Every write is atomic: a temporary file in the same directory, written,
// fsynced, renamed over the journal, then the directory fsynced, so that after a crash or power
// loss the journal is either the old or the new version, never a torn mix. The agent and an elevated
// local helper run as root, so the directory (0700) and file (0600) must be ours and closed to
// everyone else: another user can neither plant entries nor swap the file for a symlink.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { JournalError } from "./errors.js";
import { parseJournalDocument, type JournalDocument } from "./undo-entry.js";

const TEMP_MARK = ".tmp-";

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

export function myUid(): number {
  return typeof process.getuid === "function" ? process.getuid() : 0;
}

/**
 * Creates the directory 0700, or checks that an existing one is a real directory we own and
 * nobody else can enter. An existing one is never chmodded: `--journal /tmp/j.json` must not
 * make /tmp private.
 */
export async function ensureJournalDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory()) {
    throw new JournalError(`${dir} must be a directory, not a symlink or file: remove it and start again`);
  }
  if (info.uid !== myUid()) {
    throw new JournalError(
      `${dir} belongs to uid ${info.uid}, not to this process (uid ${myUid()}): remove it`,
    );
  }
  if ((info.mode & 0o077) !== 0) {
    throw new JournalError(
      `${dir} is open to other users (mode ${(info.mode & 0o777).toString(8)}): ` +
        "give the journal a directory of its own (it is created 0700)",
    );
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeJournalFile(path: string, document: JournalDocument): Promise<void> {
  const dir = dirname(path);
  await ensureJournalDirectory(dir);
  const temp = join(dir, `${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(document, null, 2)}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** The journal, or null when there is none. Throws JournalError when it cannot be trusted. */
export async function readJournalFile(path: string): Promise<JournalDocument | null> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw error;
  }
  const handOver = `inspect it, undo what it lists by hand, then delete it`;
  if (!info.isFile()) throw new JournalError(`${path} is not a regular file: ${handOver}`);
  if (info.uid !== myUid()) {
    throw new JournalError(`${path} belongs to uid ${info.uid}, not to this process: ${handOver}`);
  }
  const text = await readFile(path, "utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new JournalError(`${path} is not valid JSON: ${handOver}`, { cause: error });
  }
  const document = parseJournalDocument(parsed);
  if (typeof document === "string")
    throw new JournalError(`${path} cannot be read: ${document}; ${handOver}`);
  return document;
}

export async function removeJournalFile(path: string): Promise<void> {
  await rm(path, { force: true });
  try {
    await syncDirectory(dirname(path));
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
}

/** Temporary files a crash left between write and rename: never the journal, safe to delete. */
export async function removeStaleTempFiles(path: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return;
    throw error;
  }
  const prefix = `${basename(path)}${TEMP_MARK}`;
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix))
      .map((name) => rm(join(dirname(path), name), { force: true })),
  );
}
