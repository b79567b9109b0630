import { rmSync } from "node:fs";
import { connect } from "node:net";

/**
 * Makes `path` free for a new Unix socket (or named pipe) server, unless something listens there:
 * false when a live server accepts a connection at it (another's, never taken over); true once a
 * stale file there is removed (a symlink is removed, not followed). Used by the local helper's
 * socket and the sessions' control sockets.
 */
export async function claimSocketPath(path: string): Promise<boolean> {
  if (await socketAccepts(path)) return false;
  rmSync(path, { force: true });
  return true;
}

/** Whether a server accepts a connection at `path` now. */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
