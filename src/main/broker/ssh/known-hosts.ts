// OpenSSH known_hosts, parsed and matched the way ssh(1) does (see sshd(8), "SSH_KNOWN_HOSTS FILE
// FORMAT"): comma-separated host patterns with * ? and !negation, `[host]:port` for other ports,
// hashed names `|1|salt|hmac-sha1`, and the @revoked and @cert-authority markers. Pure: reading
// and appending files is known-hosts-file.ts.
import { createHash, createHmac, randomBytes } from "node:crypto";

export type HostField =
  | { kind: "patterns"; patterns: string[] }
  /** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. */
  | { kind: "hashed"; salt: Buffer; hash: Buffer };

export interface KnownHostEntry {
  file: string;
  /** 1-based, as editors and `ssh-keygen -R` report it. */
  line: number;
  marker: "revoked" | null;
  hosts: HostField;
  keyType: string;
  /** The public key blob (SSH wire format), as the server sends it. */
  key: Buffer;
}

export interface ParsedKnownHosts {
  entries: KnownHostEntry[];
  /** Lines skipped, with the reason: @cert-authority lines, malformed lines. */
  notes: string[];
}

/** The name ssh looks up: the alias as is, `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number, alias?: string | null): string {
  if (alias) return alias.toLowerCase();
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** The key type written inside an SSH public key blob (its first string). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
  return blob.toString("latin1", 4, 4 + length);
}

/** "SHA256:..." exactly as `ssh-keygen -l` prints it (unpadded base64). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function parseHostField(field: string): HostField | undefined {
  if (field.startsWith("|1|")) {
    const [salt, hash] = field.slice(3).split("|");
    if (!salt || !hash) return undefined;
    const saltBytes = Buffer.from(salt, "base64");
    const hashBytes = Buffer.from(hash, "base64");
    // HMAC-SHA1 keyed by a 20-byte salt; anything else is not an entry ssh could have written.
    if (saltBytes.length !== 20 || hashBytes.length !== 20) return undefined;
    return { kind: "hashed", salt: saltBytes, hash: hashBytes };
  }
  const patterns = field.split(",").filter((pattern) => pattern.length > 0);
  return patterns.length > 0 ? { kind: "patterns", patterns } : undefined;
}

export function parseKnownHosts(text: string, file: string): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const notes: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${file}:${index + 1}`;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = null;
    if (fields[0]?.startsWith("@")) {
      const name = fields.shift();
      if (name === "@cert-authority") {
        notes.push(`${where}: @cert-authority line skipped (host certificates are not supported)`);
        continue;
      }
      if (name !== "@revoked") {
        notes.push(`${where}: unknown marker ${name} skipped`);
        continue;
      }
      marker = "revoked";
    }
    const [hostText, keyType, keyText] = fields;
    const hosts = hostText ? parseHostField(hostText) : undefined;
    const key = keyText ? Buffer.from(keyText, "base64") : undefined;
    if (!hosts || !keyType || !key || blobKeyType(key) !== keyType) {
      notes.push(`${where}: malformed line skipped`);
      continue;
    }
    entries.push({ file, line: index + 1, marker, hosts, keyType, key });
  }
  return { entries, notes };
}

/** ssh's glob: `*` any run, `?` one character, everything else literal; case-insensitive. */
function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split("")
    .map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "i").test(name);
}

/** Whether `name` (from hostLookupName) is one of the entry's hosts. */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  const hosts = entry.hosts;
  if (hosts.kind === "hashed") {
    const digest = createHmac("sha1", hosts.salt).update(name).digest();
    return digest.equals(hosts.hash);
  }
  // A negated match vetoes the line even if another pattern matches (match_pattern_list).
  let matched = false;
  for (const pattern of hosts.patterns) {
    const negated = pattern.startsWith("!");
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export type HostKeyCheck =
  | { status: "known"; entry: KnownHostEntry }
  /** Nothing is recorded for this host. */
  | { status: "unknown" }
  /**
   * Only keys of other types are recorded for the host: a server that now offers another type
   * may be an attacker who has none of the recorded keys (a downgrade), so this is never "new".
   */
  | { status: "other-type"; recorded: KnownHostEntry[] }
  /** A recorded key of the same type differs, or the key is @revoked: refuse. */
  | { status: "changed"; entry: KnownHostEntry; revoked: boolean };

export function checkHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyCheck {
  const keyType = blobKeyType(key);
  const forHost = entries.filter((entry) => entryMatchesHost(entry, name));
  const revoked = forHost.find((entry) => entry.marker === "revoked" && entry.key.equals(key));
  if (revoked) return { status: "changed", entry: revoked, revoked: true };
  const live = forHost.filter((entry) => entry.marker === null);
  const known = live.find((entry) => entry.key.equals(key));
  if (known) return { status: "known", entry: known };
  const sameType = live.find((entry) => entry.keyType === keyType);
  if (sameType) return { status: "changed", entry: sameType, revoked: false };
  return live.length > 0 ? { status: "other-type", recorded: live } : { status: "unknown" };
}

/** Key types recorded for `name`, so the handshake can ask the server for one of those first. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types = entries
    .filter((entry) => entry.marker === null && entryMatchesHost(entry, name))
    .map((entry) => entry.keyType);
  return [...new Set(types)];
}

/** A known_hosts line for `name` (plain, or hashed as `HashKnownHosts yes` writes it). */
export function formatKnownHostsLine(name: string, key: Buffer, options: { hashed?: boolean } = {}): string {
  const keyType = blobKeyType(key) ?? "unknown";
  let host = name;
  if (options.hashed) {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update(name).digest();
    host = `|1|${salt.toString("base64")}|${hash.toString("base64")}`;
  }
  return `${host} ${keyType} ${key.toString("base64")}`;
}
