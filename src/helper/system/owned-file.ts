// Files backhaul wrote whole (the proxy entrance's proxy.env, macOS /etc/resolver/DOMAIN): removed
// only while they still hold what was written (its hash), so a file someone else put there, or a
// symlink planted in its place, stays.
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, unlink } from "node:fs/promises";
import type { UndoOutcome } from "./journal.js";

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const errnoCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

export async function removeOwnedFile(entry: {
  path: string;
  writtenBytesSha256: string;
}): Promise<UndoOutcome> {
  let bytes: Buffer;
  try {
    const handle = await open(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { status: "already-gone" };
    if (errnoCode(error) === "ELOOP")
      return { status: "left-alone", reason: "it is a symlink now, not the file written" };
    throw error;
  }
  if (sha256Hex(bytes) !== entry.writtenBytesSha256)
    return { status: "left-alone", reason: "its content changed since backhaul wrote it" };
  try {
    await unlink(entry.path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { status: "already-gone" };
    throw error;
  }
  return { status: "undone" };
}
