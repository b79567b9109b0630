// What the journal records: one undo record per system change, as plain JSON, and the checks
// that read them back from a file a dead agent left behind.
import type { ProcessIdentity } from "./process-identity.js";

export type UndoEntry =
  /** A TUN interface this agent created; it disappears when its file descriptor closes. */
  | { kind: "tun"; name: string }
  /** An address added to `dev`, e.g. "198.18.0.1/30". */
  | { kind: "address"; cidr: string; dev: string }
  /** A route for `prefix` into `dev` in the main table. */
  | { kind: "route"; prefix: string; dev: string }
  /**
   * A resolv.conf rewritten in place. `originalBytesBase64` is null when the file did not exist.
   * The hash of what was written lets the undo tell our content from someone else's later edit.
   */
  | { kind: "resolv-conf"; path: string; originalBytesBase64: string | null; writtenBytesSha256: string }
  /** Per-link DNS set through systemd-resolved; undone with `resolvectl revert`. */
  | { kind: "resolved-link"; link: string }
  /**
   * The proxy entrance's settings and credentials for the user to `source`. Removed only while
   * its content is still what was written (its hash), so a file someone else put there stays.
   */
  | { kind: "proxy-env"; path: string; writtenBytesSha256: string }
  /** macOS: /etc/resolver/DOMAIN for --remote-dns-domain, removed while it holds what was written. */
  | { kind: "resolver-file"; path: string; writtenBytesSha256: string }
  /** Windows: an NRPT rule for --remote-dns-domain, known by its comment (unique to the rule). */
  | { kind: "nrpt-rule"; comment: string }
  /**
   * macOS and Windows: this computer's TUN (utun, Wintun), known by its journal slot as the OS
   * names it only once open; it goes away with its handle.
   */
  | { kind: "platform-tun"; os: "darwin" | "win32"; slot: string }
  /** macOS and Windows: a route into this computer's TUN, made with the OS's own command. */
  | { kind: "platform-route"; os: "darwin" | "win32"; prefix: string; dev: string };

export type UndoKind = UndoEntry["kind"];

/** An entry as stored: numbered, so that one can be undone and dropped on its own. */
export type JournalEntry = UndoEntry & { id: number };

export interface JournalDocument {
  version: 1;
  owner: ProcessIdentity;
  entries: JournalEntry[];
}

type Check = (record: Record<string, unknown>) => boolean;

const isString = (value: unknown): value is string => typeof value === "string" && value.length > 0;

const CHECKS: Record<UndoKind, Check> = {
  tun: (r) => isString(r.name),
  address: (r) => isString(r.cidr) && isString(r.dev),
  route: (r) => isString(r.prefix) && isString(r.dev),
  "resolv-conf": (r) =>
    isString(r.path) &&
    (r.originalBytesBase64 === null || typeof r.originalBytesBase64 === "string") &&
    isString(r.writtenBytesSha256),
  "resolved-link": (r) => isString(r.link),
  "proxy-env": (r) => isString(r.path) && isString(r.writtenBytesSha256),
  "resolver-file": (r) => isString(r.path) && isString(r.writtenBytesSha256),
  "nrpt-rule": (r) => isString(r.comment),
  "platform-tun": (r) => (r.os === "darwin" || r.os === "win32") && isString(r.slot),
  "platform-route": (r) => (r.os === "darwin" || r.os === "win32") && isString(r.prefix) && isString(r.dev),
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isKind(value: unknown): value is UndoKind {
  return typeof value === "string" && Object.hasOwn(CHECKS, value);
}

function parseEntry(value: unknown): JournalEntry | null {
  if (!isRecord(value) || !isKind(value.kind) || !Number.isSafeInteger(value.id)) return null;
  return CHECKS[value.kind](value) ? (value as JournalEntry) : null;
}

/** The document, or a sentence saying what is wrong with it. */
export function parseJournalDocument(value: unknown): JournalDocument | string {
  if (!isRecord(value) || value.version !== 1) return "it is not a version 1 backhaul journal";
  const owner = value.owner;
  if (
    !isRecord(owner) ||
    !Number.isSafeInteger(owner.pid) ||
    typeof owner.startTime !== "string" ||
    typeof owner.bootId !== "string"
  ) {
    return "its owner (pid, start time, boot id) is missing";
  }
  if (!Array.isArray(value.entries)) return "it has no list of entries";
  const entries: JournalEntry[] = [];
  for (const [index, item] of value.entries.entries()) {
    const entry = parseEntry(item);
    if (entry === null) return `entry ${index} is not an undo record backhaul knows: ${JSON.stringify(item)}`;
    entries.push(entry);
  }
  return {
    version: 1,
    owner: { pid: owner.pid as number, startTime: owner.startTime, bootId: owner.bootId },
    entries,
  };
}

/** One line naming the change, for reports. */
export function describeEntry(entry: UndoEntry): string {
  switch (entry.kind) {
    case "tun":
      return `TUN interface ${entry.name}`;
    case "address":
      return `address ${entry.cidr} on ${entry.dev}`;
    case "route":
      return `route ${entry.prefix} dev ${entry.dev}`;
    case "resolv-conf":
      return `rewritten ${entry.path}`;
    case "resolved-link":
      return `systemd-resolved DNS on ${entry.link}`;
    case "proxy-env":
      return `proxy settings file ${entry.path}`;
    case "resolver-file":
      return `resolver file ${entry.path}`;
    case "nrpt-rule":
      return `NRPT rule "${entry.comment}"`;
    case "platform-tun":
      return `TUN interface of ${entry.slot}`;
    case "platform-route":
      return `route ${entry.prefix} dev ${entry.dev}`;
  }
}
