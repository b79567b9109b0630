// A plain /etc/resolv.conf, rewritten IN PLACE (open with O_TRUNC, write, fsync) and never
// replaced by rename: in containers and Codespaces it is often a bind mount, where a rename
// fails (EBUSY) or swaps the file only on our side of the mount. The restore writes the original
// bytes back the same way, byte for byte.
//
// Mode "all": our stub servers REPLACE the other nameservers. The stub forwards every name, and
// glibc falls back to the next nameserver whenever the first is slow, so keeping the old ones
// after ours would send some queries around the link and answer private names inconsistently.
// `search`, `domain`, `options` and `sortlist` lines are kept: they shape names, not servers.
//
// Mode "split" cannot be expressed in resolv.conf: glibc has one server list for every name. So
// the file names the agent's split forwarder (split-forwarder.ts) on the TUN's own address, which
// sends names under the split domains through the link and every other name to the servers this
// file named before, read from the original bytes (the same bytes the journal restores). A file
// without nameserver lines meant 127.0.0.1 to glibc, and so it does to the forwarder.
import { createHash } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import { DNS_PORT, parseResolvConf } from "../../engines/dns/resolv-conf.js";
import { DnsUnsupportedError } from "../errors.js";
import type { Journal, UndoOutcome } from "../journal.js";
import type { UndoEntry } from "../undo-entry.js";
import type { Upstream } from "../../engines/dns/upstream.js";
import type { DnsConfigurator, DnsSettings } from "./configurator.js";
import { SplitForwarder } from "./split-forwarder.js";

export const RESOLV_CONF_PATH = "/etc/resolv.conf";

/** glibc reads at most three nameserver lines (MAXNS). */
const MAX_NAMESERVERS = 3;

/** Called before every write to the file: a last check that it is the file we mean to change. */
export type BeforeWrite = (path: string) => Promise<void>;

type ResolvConfEntry = Extract<UndoEntry, { kind: "resolv-conf" }>;

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const ALL_HEADER = "# Written by backhaul: names are resolved through the link to your computer.";

/** The file pointed at `servers`, keeping the lines that do not name servers. */
export function renderResolvConf(
  original: string,
  servers: readonly string[],
  header: string = ALL_HEADER,
): string {
  const kept = original.split(/\r?\n/).filter((line) => /^\s*(search|domain|options|sortlist)\s/.test(line));
  return [
    header,
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

/** Where split mode's forwarder listens, and the port (53 but in tests). */
export interface SplitListen {
  address: string;
  port?: number;
}

/** The servers a resolv.conf sends names to: its nameserver lines, or glibc's 127.0.0.1 without any. */
export function remoteServersOf(text: string, ours: readonly string[]): Upstream[] {
  const named = parseResolvConf(text).filter((server) => !ours.includes(server));
  return (named.length > 0 ? named : ["127.0.0.1"]).map((address) => ({ address, port: DNS_PORT }));
}

export class ResolvConfConfigurator implements DnsConfigurator {
  readonly kind = "resolv-conf";
  description: string;
  private forwarder: SplitForwarder | undefined;

  constructor(
    readonly path: string = RESOLV_CONF_PATH,
    private readonly beforeWrite: BeforeWrite = () => Promise.resolve(),
    /** Split mode's forwarder address: the TUN's own. Without one, split mode is refused. */
    private readonly splitListen?: SplitListen,
    private readonly log?: (line: string) => void,
  ) {
    this.description = `rewrites ${path} in place to use the link's DNS stub`;
  }

  async apply(settings: DnsSettings, journal: Journal): Promise<void> {
    const original = await readIfPresent(this.path);
    const originalText = original?.toString("utf8") ?? "";
    let servers = settings.servers;
    let header = ALL_HEADER;
    if (settings.mode === "split") {
      const listen = this.splitListen;
      if (listen === undefined)
        throw new DnsUnsupportedError(
          `split DNS needs the TUN's address for its forwarder, and this agent has none: use DNS mode "all" or "off"`,
        );
      const remoteServers = remoteServersOf(originalText, [...settings.servers, listen.address]);
      // Listening before the file names it: no moment where resolv.conf points at nothing.
      this.forwarder = await SplitForwarder.start({
        listen: listen.address,
        port: listen.port,
        domains: settings.domains,
        linkServers: settings.servers.map((address) => ({ address, port: DNS_PORT })),
        remoteServers,
        log: this.log,
      }).catch((error: unknown) => {
        // E.g. a DNS server of the remote's own holds port 53 on every address.
        throw new DnsUnsupportedError(
          `split DNS needs port ${listen.port ?? DNS_PORT} on ${listen.address} for its forwarder, ` +
            `and it cannot have it (${(error as Error).message}): use DNS mode "all" or "off"`,
          { cause: error },
        );
      });
      servers = [listen.address];
      header =
        // Neutral about the side: the agent's split DNS and this computer's --remote-dns-domain both write it.
        `# Written by backhaul: names under ${settings.domains.length} domain(s) go through its link to the other side;\n` +
        `# the others to ${remoteServers.map((server) => server.address).join(", ")}, as before.`;
      this.description =
        `rewrites ${this.path} in place to use backhaul's split DNS forwarder on ${listen.address} ` +
        `(UDP relayed by ${this.forwarder.udpRelay === "native" ? "its native thread" : "JavaScript"})`;
    }
    const written = Buffer.from(renderResolvConf(originalText, servers, header));
    const entry: ResolvConfEntry = {
      kind: "resolv-conf",
      path: this.path,
      originalBytesBase64: original === null ? null : original.toString("base64"),
      writtenBytesSha256: sha256(written),
    };
    try {
      await journal.recordThenApply(entry, async () => {
        await this.beforeWrite(this.path);
        await writeInPlace(this.path, written);
      });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  get splitForwarder(): SplitForwarder | null {
    return this.forwarder ?? null;
  }

  update(settings: DnsSettings): Promise<void> {
    if (settings.mode === "split") this.forwarder?.setDomains(settings.domains);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.forwarder?.close();
    this.forwarder = undefined;
  }
}
