/**
 * Where an elevated (root) helper listens: a fresh directory of root's own, made under a
 * directory only root can change, holding the socket. Every path component there is root's, so
 * handing the socket to the user (lchown by path) cannot be redirected, as it could be in the
 * user's control directory. The directory is 0711 (others may pass through, not list) and the
 * socket 0600 owned by the user: the user can connect, nobody else can. Main finds it through a
 * symlink the helper puts in the control directory (see control-dir.ts for how, safely).
 */
import { chmodSync, lchownSync, lstatSync, mkdtempSync } from "node:fs";
import { join } from "node:path";

/** Both sit directly under `/`: no component of these paths belongs to a user. */
const BASES = ["/run", "/tmp"];

/** A directory only root can change entries of: root's and not writable by others, or sticky. */
export function privateSocketBase(candidates: readonly string[] = BASES): string {
  for (const base of candidates) {
    try {
      const info = lstatSync(base);
      const othersWrite = (info.mode & 0o022) !== 0;
      const sticky = (info.mode & 0o1000) !== 0;
      if (info.isDirectory() && info.uid === 0 && (!othersWrite || sticky)) return base;
    } catch {
      // not here: try the next
    }
  }
  throw new Error(`no root-owned directory to put the helper's socket in (${candidates.join(", ")})`);
}

/** A new directory for the socket: root's, 0700 until the socket is handed over. */
export function makePrivateSocketDir(base: string): string {
  return mkdtempSync(join(base, "backhaul-helper-"));
}

/** Gives the socket to the user (still 0600) and opens the directory for passing through. */
export function handOverSocket(dir: string, socketPath: string, ownerUid: number): void {
  lchownSync(socketPath, ownerUid, -1);
  chmodSync(dir, 0o711);
}
