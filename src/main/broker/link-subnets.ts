/**
 * The link subnets sessions pick from.
 *
 * The remote's side (the agent's TUN) uses DEFAULT_SUBNET_V4/V6 unless the user picks one: each
 * remote is its own machine, so two sessions to two remotes may both use it.
 *
 * This computer's side (the TUN of `--remote-route`) is shared by every session on it: each
 * session takes a subnet of its own with `localLinkSubnets`, slot N of LOCAL_SLOTS being
 * 100.87.54.(4N)/30 and fd62:6b68:6c01:N::/64. A slot is held by a lease file in the user's
 * runtime directory (one per slot, holding the process id), so two `backhaul connect` runs and
 * the app's sessions never take the same one; a slot whose subnets overlap an address or route
 * this computer already has (another user's session, a VPN that took the range) is skipped.
 */
import { lstat, mkdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatPrefix, overlaps, parsePrefix, type Prefix } from "../../helper/engines/routes/cidr.js";
import { listRoutes } from "./routes/index.js";

/** Link subnets that real networks rarely use: the CGNAT range and a ULA prefix of our own. */
export const DEFAULT_SUBNET_V4 = "100.87.53.0/30";
export const DEFAULT_SUBNET_V6 = "fd62:6b68:6c00::/64";

/** How many sessions on this computer can hold a subnet at once. */
export const LOCAL_SLOTS = 64;

export interface LinkSubnets {
  v4: string;
  /** null: no IPv6 on the link. */
  v6: string | null;
}

/** A session's hold on this computer's link subnets, until `release`. */
export interface SubnetLease {
  readonly slot: number;
  readonly subnets: LinkSubnets;
  /** Frees the slot for the next session; safe to call twice. */
  release(): Promise<void>;
}

export interface LocalSubnetOptions {
  /** Where the lease files are; default $XDG_RUNTIME_DIR/backhaul-subnets, else under the temp dir. */
  leaseDir?: string;
  /** This computer's addresses and routes, as CIDR; default: listRoutes(). */
  inUse?: () => Promise<readonly string[]>;
  /** Whether a process id is alive; default: signal 0. Tests replace it. */
  alive?: (pid: number) => boolean;
}

/** The subnets of slot `n`. */
export function localSlotSubnets(n: number): LinkSubnets {
  if (!Number.isInteger(n) || n < 0 || n >= LOCAL_SLOTS) throw new RangeError(`no link subnet slot ${n}`);
  // Written out, then canonical (slot 0's IPv6 is fd62:6b68:6c01::/64, not …:6c01:0::/64).
  const canonical = (text: string): string => formatPrefix(parsePrefix(text));
  return { v4: canonical(`100.87.54.${n * 4}/30`), v6: canonical(`fd62:6b68:6c01:${n.toString(16)}::/64`) };
}

/**
 * This computer's link subnets for `session` (a label, written in the lease for whoever looks):
 * the first slot no other live process holds and no address or route of this computer overlaps.
 * Rejects when every slot is taken.
 */
export async function localLinkSubnets(
  session: string,
  options: LocalSubnetOptions = {},
): Promise<SubnetLease> {
  const dir = options.leaseDir ?? defaultLeaseDir();
  await privateDirectory(dir);
  const taken = await busyPrefixes(options.inUse ?? currentPrefixes);
  const alive = options.alive ?? isAlive;
  for (let slot = 0; slot < LOCAL_SLOTS; slot++) {
    const subnets = localSlotSubnets(slot);
    if (taken.some((prefix) => clashes(prefix, subnets))) continue;
    const path = join(dir, `slot-${slot}`);
    if (!(await claim(path, session, alive))) continue;
    let released = false;
    return {
      slot,
      subnets,
      release: async () => {
        if (released) return;
        released = true;
        await rm(path, { force: true });
      },
    };
  }
  throw new Error(
    `every one of this computer's ${LOCAL_SLOTS} link subnets is in use (leases in ${dir}): end a session first`,
  );
}

interface LeaseRecord {
  pid: number;
  session: string;
}

/** Takes the lease file at `path`, or takes it over from a process that is gone. */
async function claim(path: string, session: string, alive: (pid: number) => boolean): Promise<boolean> {
  const record = `${JSON.stringify({ pid: process.pid, session } satisfies LeaseRecord)}\n`;
  if (await createExclusive(path, record)) return true;
  const holder = await readLease(path);
  if (holder !== null && alive(holder.pid)) return false;
  // A stale lease: one takeover at a time (mkdir is atomic), so two processes cannot both remove
  // it and each believe the new file is theirs.
  const takeover = `${path}.takeover`;
  try {
    await mkdir(takeover, { mode: 0o700 });
  } catch {
    return false; // another process is taking it over now: leave the slot to it
  }
  try {
    const again = await readLease(path);
    if (again !== null && alive(again.pid)) return false;
    await rm(path, { force: true });
    return await createExclusive(path, record);
  } finally {
    await rmdir(takeover).catch(() => undefined);
  }
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, text, { flag: "wx", mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** The lease's holder; null for a file that is not one of ours (then it is stale). */
async function readLease(path: string): Promise<LeaseRecord | null> {
  try {
    const value: unknown = JSON.parse(await readFile(path, "utf8"));
    if (typeof value !== "object" || value === null) return null;
    const pid = (value as { pid?: unknown }).pid;
    const session = (value as { session?: unknown }).session;
    return typeof pid === "number" && Number.isInteger(pid) && pid > 0 && typeof session === "string"
      ? { pid, session }
      : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

/**
 * What a slot must not overlap: this computer's addresses and subnets, and routes of /16 or
 * longer. A shorter route (the default route, a VPN's 0/1 + 128/1, a /10 for all of CGNAT) does
 * not make a /30 inside it unusable: our TUN's more specific route wins there.
 */
const SHORTEST_CLASHING_ROUTE = 16;

async function busyPrefixes(inUse: () => Promise<readonly string[]>): Promise<Prefix[]> {
  const listed = await inUse().catch(() => [] as readonly string[]); // unreadable: the leases still hold
  const prefixes: Prefix[] = [];
  for (const text of listed) {
    try {
      prefixes.push(parsePrefix(text));
    } catch {
      // a route the OS printed oddly is not a reason to refuse a session
    }
  }
  return prefixes;
}

function clashes(busy: Prefix, subnets: LinkSubnets): boolean {
  return [subnets.v4, subnets.v6].some((text) => {
    if (text === null) return false;
    const ours = parsePrefix(text);
    if (!overlaps(busy, ours)) return false;
    return busy.length >= ours.length || busy.length >= SHORTEST_CLASHING_ROUTE;
  });
}

async function currentPrefixes(): Promise<string[]> {
  return (await listRoutes()).map((entry) => entry.prefix);
}

function defaultLeaseDir(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) return join(runtime, "backhaul-subnets");
  const uid = process.getuid?.();
  return join(tmpdir(), uid === undefined ? "backhaul-subnets" : `backhaul-subnets-${uid}`);
}

/** The lease directory: ours and 0700, so another local user cannot plant or remove leases. */
async function privateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o077) !== 0)
    throw new Error(`${dir} is not a private directory of this user's: remove it and connect again`);
}
