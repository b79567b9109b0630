// The agent's link runs on stdin and stdout. Over SSH they are sshd's pipes, 64 KiB each: less
// than one full link frame (64 KiB of STREAM_DATA or packets plus its head), so each frame takes
// two reads, and sshd stops at a full pipe more often than it writes. With 1 MiB, sshd hands
// over a burst in one write and the agent drains it in one wakeup (on warm 128 MiB proxy
// downloads, R's CPU fell from about 2.6 to 2.2 s/GB). Best effort: a pipe the kernel
// will not grow for this user, a socket (an `exec:` command's socketpair) or an addon built
// before setPipeSize leave the link as it is.
import { loadNativeAddon } from "../native/load-addon.js";

export const LINK_PIPE_BYTES = 1024 * 1024;

/** Grows `fd` to `bytes` if it is a pipe: its capacity afterwards, or null (not a pipe, no addon, an error). */
export function growPipe(fd: number, bytes: number = LINK_PIPE_BYTES): number | null {
  try {
    const setPipeSize = loadNativeAddon().setPipeSize;
    return setPipeSize === undefined ? null : setPipeSize(fd, bytes);
  } catch {
    return null;
  }
}

/** Grows stdin and stdout; says which pipe stayed smaller than asked. */
export function growLinkPipes(log: (line: string) => void): void {
  for (const [fd, name] of [
    [0, "stdin"],
    [1, "stdout"],
  ] as const) {
    const size = growPipe(fd);
    if (size !== null && size < LINK_PIPE_BYTES) {
      log(
        `the link's ${name} pipe stays ${size / 1024} KiB (the kernel would not grow it to ${LINK_PIPE_BYTES / 1024} KiB)`,
      );
    }
  }
}
