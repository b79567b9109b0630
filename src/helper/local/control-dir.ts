/**
 * The control directory main makes for the helper (DIR/token, DIR/helper.sock), opened once,
 * checked on the open descriptor, and from then on reached only through that descriptor.
 *
 * Why: the helper may run as root, and DIR lives where its user can rename entries (their
 * runtime or temp directory). A check on the path followed by a use of the path lets the user
 * swap DIR for a symlink in between, and root would then create, chown or delete `helper.sock`
 * wherever the link points. Node has no openat(), but on Linux `/proc/self/fd/N` is the open
 * directory itself (the kernel jumps to it; it does not look the path up again), so names under
 * it are resolved relative to the directory that was checked. Elsewhere the helper never runs
 * elevated (elevation.ts) and runs as DIR's own user, so plain paths give nobody anything.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface ControlDir {
  /** DIR as main named it: for messages only, never for file operations. */
  readonly path: string;
  /** A path to `name` inside the checked directory (through its descriptor where possible). */
  entry(name: string): string;
  /** The token main wrote; checked like the directory. */
  readToken(): string;
  close(): void;
}

const FD_DIR = "/proc/self/fd";

/**
 * Opens DIR without following a symlink and checks the open directory: owned by `owner` (when
 * given) and closed to everyone else (it holds the token). `requireDescriptorPaths` (running as
 * root) refuses to go on where names cannot be resolved through the descriptor.
 */
export function openControlDir(
  path: string,
  owner: number | undefined,
  requireDescriptorPaths = false,
): ControlDir {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const info = fstatSync(fd);
    if (!info.isDirectory()) throw new Error(`${path} is not a directory`);
    if ((info.mode & 0o077) !== 0)
      throw new Error(
        `${path} is open to other users (mode ${(info.mode & 0o777).toString(8)}); it must be 0700`,
      );
    if (owner !== undefined && info.uid !== owner)
      throw new Error(`${path} belongs to uid ${info.uid}, not ${owner}`);
    const viaDescriptor = existsSync(join(FD_DIR, String(fd)));
    if (requireDescriptorPaths && !viaDescriptor)
      throw new Error(`${FD_DIR} is not available: cannot use ${path} safely as root`);
    const base = viaDescriptor ? join(FD_DIR, String(fd)) : path;
    const entry = (name: string): string => join(base, name);
    return {
      path,
      entry,
      readToken: () => readToken(entry("token"), join(path, "token"), owner),
      close: () => closeSync(fd),
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * The token file, opened without following a link (its parent is the checked directory, so the
 * last component is the only one the user could still swap) and checked on the descriptor.
 */
function readToken(path: string, shown: string, owner: number | undefined): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > 4096) throw new Error(`${shown} is not a token file`);
    if ((info.mode & 0o077) !== 0 || (owner !== undefined && info.uid !== owner))
      throw new Error(`${shown} must be owner-only (0600) and belong to uid ${owner}`);
    const token = readFileSync(fd, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(token)) throw new Error(`${shown} does not hold a token`);
    return token;
  } finally {
    closeSync(fd);
  }
}
