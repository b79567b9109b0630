// known_hosts files on disk: read them all (a missing file is simply empty), append an accepted key.
import { appendFile, mkdir, open, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { formatKnownHostsLine, parseKnownHosts, type ParsedKnownHosts } from "./known-hosts.js";

export function defaultKnownHostsFiles(home = homedir()): string[] {
  return [join(home, ".ssh", "known_hosts")];
}

/** ssh's GlobalKnownHostsFile default: read, never written. */
export const DEFAULT_GLOBAL_KNOWN_HOSTS_FILES: readonly string[] = [
  "/etc/ssh/ssh_known_hosts",
  "/etc/ssh/ssh_known_hosts2",
];

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export async function loadKnownHosts(files: readonly string[]): Promise<ParsedKnownHosts> {
  const result: ParsedKnownHosts = { entries: [], notes: [] };
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") continue;
      result.notes.push(
        `${file}: cannot read it (${error instanceof Error ? error.message : String(error)})`,
      );
      continue;
    }
    const parsed = parseKnownHosts(text, file);
    result.entries.push(...parsed.entries);
    result.notes.push(...parsed.notes);
  }
  return result;
}

/** Whether the file exists and its last byte is not a newline (then we must add one first). */
async function lacksFinalNewline(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch {
    return false;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}

/** Appends `name`'s key to `file`, creating its directory (0700) and the file (0600) as ssh does. */
export async function recordHostKey(file: string, name: string, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const prefix = (await lacksFinalNewline(file)) ? "\n" : "";
  await appendFile(file, `${prefix}${formatKnownHostsLine(name, key)}\n`, { mode: 0o600 });
}
