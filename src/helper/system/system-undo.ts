// How each kind of journal entry is undone on the real system. Every undo is idempotent: what
// is already gone counts as undone, and what is no longer ours is left alone, with a reason.
import { LinuxInterface } from "./tun/index.js";
import { execFileRunner, isAlreadyGone, linkExists, tunRunner, type CommandRunner } from "./command.js";
import { restoreResolvConf, type BeforeWrite } from "./dns/resolv-conf.js";
import { revertResolvedLink } from "./dns/resolved.js";
import { removeOwnedFile } from "./owned-file.js";
import { deletePlatformRoute, removeNrptRule } from "./platform/undo.js";
import type { UndoAction, UndoOutcome } from "./journal.js";
import type { UndoEntry } from "./undo-entry.js";

export interface SystemUndoOptions {
  run?: CommandRunner;
  /**
   * TUN devices this process holds open, by name. Closing its file descriptor is what removes a
   * TUN interface (ours are never persistent), so a device here is closed, not deleted.
   */
  openTuns?: ReadonlyMap<string, { close(): void }>;
  /** Called before any write to a resolv.conf: the last check that it is the file we mean. */
  beforeResolvConfWrite?: BeforeWrite;
  /** How long a closed TUN may take to disappear. */
  tunGoneTimeoutMs?: number;
}

async function undoTun(
  name: string,
  run: CommandRunner,
  openTuns: ReadonlyMap<string, { close(): void }>,
  timeoutMs: number,
): Promise<UndoOutcome> {
  const device = openTuns.get(name);
  if (device === undefined) {
    // Its owner is gone, so its descriptor is closed and the kernel removed it. One that exists
    // now was made by someone else after: not ours to delete.
    if (!(await linkExists(run, name))) return { status: "already-gone" };
    return {
      status: "left-alone",
      reason: `an interface named ${name} exists, but it was created by someone else`,
    };
  }
  device.close();
  const deadline = Date.now() + timeoutMs;
  while (await linkExists(run, name)) {
    if (Date.now() > deadline)
      throw new Error(`TUN interface ${name} still exists ${timeoutMs} ms after closing it`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { status: "undone" };
}

/** Runs an `ip ... del`; a missing route, address or device means it is already undone. */
async function ipDelete(action: () => Promise<void>): Promise<UndoOutcome> {
  try {
    await action();
    return { status: "undone" };
  } catch (error) {
    if (isAlreadyGone(error)) return { status: "already-gone" };
    throw error;
  }
}

export function systemUndo(options: SystemUndoOptions = {}): UndoAction {
  const run = options.run ?? execFileRunner;
  const openTuns = options.openTuns ?? new Map<string, { close(): void }>();
  const iface = (dev: string): LinuxInterface => new LinuxInterface(dev, tunRunner(run));
  return (entry: UndoEntry): Promise<UndoOutcome> => {
    switch (entry.kind) {
      case "tun":
        return undoTun(entry.name, run, openTuns, options.tunGoneTimeoutMs ?? 2_000);
      case "address":
        return ipDelete(() => iface(entry.dev).deleteAddress(entry.cidr));
      case "route":
        return ipDelete(() => iface(entry.dev).deleteRoute(entry.prefix));
      case "resolv-conf":
        return restoreResolvConf(entry, options.beforeResolvConfWrite);
      case "resolved-link":
        return revertResolvedLink(entry.link, run);
      case "proxy-env":
      case "resolver-file":
        return removeOwnedFile(entry);
      case "nrpt-rule":
        return removeNrptRule(entry.comment, run);
      case "platform-tun": {
        // Held: closing its handle removes it. Not held: its process is gone, and the OS removed it.
        const device = openTuns.get(entry.slot);
        device?.close();
        return Promise.resolve({ status: device ? "undone" : "already-gone" });
      }
      case "platform-route":
        return deletePlatformRoute(entry, run);
    }
  };
}
