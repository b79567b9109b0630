// The safety catch of the agent tests: /etc/resolv.conf may be written only when it is the
// namespace's own file, which `ip netns exec` bind-mounts over it. Checked from
// /proc/self/mountinfo and by comparing the two files' device and inode; anything else aborts,
// so that a test can never rewrite this machine's real resolver.
import { readFile, stat } from "node:fs/promises";

const RESOLV_CONF = "/etc/resolv.conf";

/** Mount points of /etc/resolv.conf in this process, as (root within its filesystem, mount point). */
export async function resolvConfMounts(): Promise<string[]> {
  const lines = (await readFile("/proc/self/mountinfo", "utf8")).split("\n");
  // Fields: id, parent, major:minor, root, mount point, ...; spaces in paths are written \040.
  return lines.flatMap((line) => {
    const fields = line.split(" ");
    return fields[4] === RESOLV_CONF && fields[3] !== undefined ? [fields[3]] : [];
  });
}

export async function assertNamespaceResolvConf(netns: string): Promise<void> {
  const source = `/etc/netns/${netns}/resolv.conf`;
  const mounts = await resolvConfMounts();
  // The last mount on a path is the one in effect.
  const top = mounts.at(-1);
  if (top === undefined || !top.endsWith(`/netns/${netns}/resolv.conf`)) {
    throw new Error(
      `refusing to touch ${RESOLV_CONF}: it is not a bind mount of ${source} (mounts: ${JSON.stringify(mounts)})`,
    );
  }
  const [mounted, expected] = await Promise.all([stat(RESOLV_CONF), stat(source)]);
  if (mounted.dev !== expected.dev || mounted.ino !== expected.ino) {
    throw new Error(`refusing to touch ${RESOLV_CONF}: it is not the same file as ${source}`);
  }
}
