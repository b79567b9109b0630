// A plain /etc/resolv.conf, rewritten IN PLACE (open with O_TRUNC, write, fsync) and never
// replaced by rename: in containers and Codespaces it is often a bind mount, where a rename
// fails (EBUSY) or swaps the file only on our side of the mount. The restore writes the original
// bytes back the same way, byte for byte.
//
// Mode "all": our stub servers REPLACE the other nameservers. The stub forwards every name, and
// glibc falls back to the next nameserver whenever the first is slow, so keeping the old ones
// after ours would send some queries around the link and answer private names inconsistently.
// `search`, `domain`, `options` and `sortlist` lines are kept: they shape names, not servers.
// Mode "split" cannot be expressed in resolv.conf (one server list for every name): refused.
import { createHash } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import { DnsUnsupportedError } from "../errors.js";
import type { Journal, UndoOutcome } from "../journal.js";
import type { UndoEntry } from "../undo-entry.js";
import type { DnsConfigurator, DnsSettings } from "./configurator.js";

export const RESOLV_CONF_PATH = "/etc/resolv.conf";

/** glibc reads at most three nameserver lines (MAXNS). */
const MAX_NAMESERVERS = 3;

/** Called before every write to the file: a last check that it is the file we mean to change. */
export type BeforeWrite = (path: string) => Promise<void>;

type ResolvConfEntry = Extract<UndoEntry, { kind: "resolv-conf" }>;

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The file pointed at `servers`, keeping the lines that do not name servers. */
export function renderResolvConf(original: string, servers: readonly string[]): string {
  const kept = original.split(/\r?\n/).filter((line) => /^\s*(search|domain|options|sortlist)\s/.test(line));
  return [
    "# Written by backhaul: names are resolved through the link to your computer.",
    "# The original file is restored when backhaul stops.",
    ...servers.slice(0, MAX_NAMESERVERS).map((server) => `nameserver ${server}`),
    ...kept,
    "",
  ].join("\n");
}

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Truncates and writes through the existing inode (and through a symlink): no rename. */
export async function writeInPlace(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "w", 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Puts the original back if the file still holds what we wrote. An empty file counts as ours:
 * it is what a crash between the truncate and the write leaves. Anything else is someone's
 * later edit (NetworkManager, dhclient, the user), which we leave alone rather than clobber.
 */
export async function restoreResolvConf(
  entry: ResolvConfEntry,
  beforeWrite: BeforeWrite = () => Promise.resolve(),
): Promise<UndoOutcome> {
  const original =
    entry.originalBytesBase64 === null ? null : Buffer.from(entry.originalBytesBase64, "base64");
  const current = await readIfPresent(entry.path);
  if (current === null) {
    if (original === null) return { status: "already-gone" };
    return {
      status: "left-alone",
      reason: `${entry.path} was deleted by someone else since backhaul wrote it`,
    };
  }
  if (original !== null && current.equals(original)) return { status: "already-gone" };
  if (current.length > 0 && sha256(current) !== entry.writtenBytesSha256) {
    return {
      status: "left-alone",
      reason: `${entry.path} was changed by someone else since backhaul wrote it`,
    };
  }
  await beforeWrite(entry.path);
  if (original === null) await rm(entry.path, { force: true });
  else await writeInPlace(entry.path, original);
  return { status: "undone" };
}

export class ResolvConfConfigurator implements DnsConfigurator {
  readonly kind = "resolv-conf";
  readonly description: string;

  constructor(
    readonly path: string = RESOLV_CONF_PATH,
    private readonly beforeWrite: BeforeWrite = () => Promise.resolve(),
  ) {
    this.description = `rewrites ${path} in place to use the link's DNS stub`;
  }

  async apply(settings: DnsSettings, journal: Journal): Promise<void> {
    if (settings.mode === "split") {
      throw new DnsUnsupportedError(
        `split DNS (only ${settings.domains.join(", ")} through the link) needs systemd-resolved, but ` +
          `this remote uses a plain ${this.path}, which sends every name to the same servers: ` +
          `use DNS mode "all" or "off"`,
      );
    }
    const original = await readIfPresent(this.path);
    const written = Buffer.from(renderResolvConf(original?.toString("utf8") ?? "", settings.servers));
    const entry: ResolvConfEntry = {
      kind: "resolv-conf",
      path: this.path,
      originalBytesBase64: original === null ? null : original.toString("base64"),
      writtenBytesSha256: sha256(written),
    };
    await journal.recordThenApply(entry, async () => {
      await this.beforeWrite(this.path);
      await writeInPlace(this.path, written);
    });
  }
}
