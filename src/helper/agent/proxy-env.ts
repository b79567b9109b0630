/**
 * `~/.config/backhaul/proxy.env`: the proxy entrance's address and per-session credentials, for
 * the user to `source` (sh and bash: every line is an `export`). The remote is shared, so the
 * directory is 0700, the file 0600, and the file is created with O_EXCL | O_NOFOLLOW: a symlink
 * planted in its place is never followed. It is a journal entry, removed at disconnect and, after
 * a SIGKILL, by the next agent's start.
 */
import { constants } from "node:fs";
import { chmod, lstat, mkdir, open, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { ProxyCredentials } from "../engines/proxy/credentials.js";
import { JournalError } from "../system/errors.js";
import { myUid } from "../system/journal-file.js";
import type { Journal } from "../system/journal.js";
import { removeOwnedFile, sha256Hex } from "../system/owned-file.js";
import type { UndoEntry } from "../system/undo-entry.js";

/** The agent's own directory on a remote where it is not root: the env file and the journal. */
export function userStateDirectory(home = homedir()): string {
  return join(home, ".config", "backhaul");
}

export function proxyEnvPath(home = homedir()): string {
  return join(userStateDirectory(home), "proxy.env");
}

/** Lines for sh and bash; names and passwords are base64url, so nothing needs quoting. */
export function renderProxyEnv(credentials: ProxyCredentials, port: number): string {
  const userinfo = `${credentials.username}:${credentials.password}`;
  const values: Array<[string, string]> = [
    ["ALL_PROXY", `socks5h://${userinfo}@127.0.0.1:${port}`],
    ["HTTP_PROXY", `http://${userinfo}@127.0.0.1:${port}`],
    ["HTTPS_PROXY", `http://${userinfo}@127.0.0.1:${port}`],
    ["NO_PROXY", "localhost,127.0.0.1,::1"],
  ];
  const lines = ["# Written by backhaul for this session; removed when it disconnects."];
  for (const [name, value] of values)
    lines.push(`export ${name}='${value}'`, `export ${name.toLowerCase()}='${value}'`);
  return `${lines.join("\n")}\n`;
}

const errnoCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

/**
 * The directory made 0700 (its parents as the user's umask has them), and checked: a real
 * directory of ours. Ours but looser is tightened: it holds nothing but Backhaul's files.
 */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory())
    throw new JournalError(`${dir} must be a directory, not a symlink or file: remove it`);
  if (info.uid !== myUid())
    throw new JournalError(`${dir} belongs to uid ${info.uid}, not to you: remove it`);
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/** Journals the file, then writes it; the next session's file replaces a left-over one. */
export async function writeProxyEnvFile(journal: Journal, path: string, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  await ensurePrivateDirectory(dirname(path));
  const entry: UndoEntry = { kind: "proxy-env", path, writtenBytesSha256: sha256Hex(bytes) };
  await journal.recordThenApply(entry, async () => {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    let handle;
    try {
      handle = await open(path, flags, 0o600);
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw error;
      // In our own 0700 directory: a file left by a session whose journal was lost. unlink does
      // not follow a symlink, and O_EXCL again refuses anything that appears meanwhile.
      await unlink(path);
      handle = await open(path, flags, 0o600);
    }
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** Removed while it still holds what was written: see owned-file.ts. */
export const removeProxyEnvFile = removeOwnedFile;
