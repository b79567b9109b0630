// Why an SSH connection failed, as typed errors whose messages tell the user what to do next.
// The UI and the CLI show `message` as is; programs branch on the class or on `code`.

export type SshErrorCode =
  | "UNREACHABLE"
  | "AUTH_FAILED"
  | "HOST_KEY_UNKNOWN"
  | "HOST_KEY_CHANGED"
  | "HOST_KEY_OTHER_TYPE"
  | "HANDSHAKE_FAILED"
  | "CONNECTION_LOST";

export abstract class SshError extends Error {
  abstract readonly code: SshErrorCode;
}

/** Nothing answered as an SSH server: DNS failure, refused, timeout, a ProxyCommand that died. */
export class UnreachableError extends SshError {
  override readonly name = "UnreachableError";
  readonly code = "UNREACHABLE";
  constructor(
    readonly host: string,
    readonly port: number,
    reason: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(
      `cannot reach ${host} on port ${port}: ${reason}. ` +
        (options.hint ?? `Check the host name and that sshd runs on port ${port} there.`),
      { cause: options.cause },
    );
  }
}

/** One thing that was tried to log in, for AuthFailedError's list. */
export interface AuthAttempt {
  /** "ssh-agent", or the identity file's path. */
  source: string;
  /** What happened: "refused by the server", "wrong passphrase (3 tries)", "no keys"... */
  outcome: string;
}

export class AuthFailedError extends SshError {
  override readonly name = "AuthFailedError";
  readonly code = "AUTH_FAILED";
  constructor(
    readonly username: string,
    readonly host: string,
    readonly attempts: readonly AuthAttempt[],
    /** The methods the server said it accepts (empty when it never said). */
    readonly serverMethods: readonly string[],
    reason?: string,
  ) {
    super(describeAuthFailure(username, host, attempts, serverMethods, reason));
  }
}

function describeAuthFailure(
  username: string,
  host: string,
  attempts: readonly AuthAttempt[],
  serverMethods: readonly string[],
  reason: string | undefined,
): string {
  const lines = [`${username}@${host} did not accept any of our keys${reason ? ` (${reason})` : ""}.`];
  if (attempts.length === 0) lines.push("Tried: nothing (no ssh-agent and no identity file).");
  else lines.push("Tried:", ...attempts.map((attempt) => `  - ${attempt.source}: ${attempt.outcome}`));
  if (serverMethods.length > 0) {
    lines.push(`The server accepts: ${serverMethods.join(", ")}.`);
    if (!serverMethods.includes("publickey"))
      lines.push("Backhaul logs in with keys only: enable PubkeyAuthentication in the server's sshd_config.");
  }
  lines.push(
    "To fix it: load your key into the agent (`ssh-add ~/.ssh/id_ed25519`), or name it with -i FILE, " +
      `and make sure its public key is in ~${username}/.ssh/authorized_keys on the remote.`,
  );
  return lines.join("\n");
}

export interface HostKeyInfo {
  /** The name looked up in known_hosts: "host", "[host]:port" or the HostKeyAlias. */
  host: string;
  keyType: string;
  /** "SHA256:..." as `ssh-keygen -l` prints it. */
  fingerprintSha256: string;
}

/** A host key that no known_hosts file records, refused by policy or by the user. */
export class HostKeyUnknownError extends SshError {
  override readonly name = "HostKeyUnknownError";
  readonly code = "HOST_KEY_UNKNOWN";
  constructor(
    readonly key: HostKeyInfo,
    /** Where an accepted key would be recorded. */
    readonly knownHostsFile: string,
    reason: string,
  ) {
    super(
      `the host key of ${key.host} is not known (${key.keyType} ${key.fingerprintSha256}): ${reason}. ` +
        `Check the fingerprint with the host's owner, then connect once and accept it, ` +
        `or add it to ${knownHostsFile} (\`ssh-keyscan\` prints the line).`,
    );
  }
}

/** The key differs from the recorded one (or is @revoked): always refused, never overridable. */
export class HostKeyChangedError extends SshError {
  override readonly name = "HostKeyChangedError";
  readonly code = "HOST_KEY_CHANGED";
  constructor(
    readonly key: HostKeyInfo,
    readonly recorded: { file: string; line: number; fingerprintSha256: string; revoked: boolean },
  ) {
    super(describeChangedKey(key, recorded));
  }
}

function describeChangedKey(key: HostKeyInfo, recorded: HostKeyChangedError["recorded"]): string {
  const banner = "@".repeat(64);
  const what = recorded.revoked
    ? `The ${key.keyType} key ${key.host} presented (${key.fingerprintSha256}) is marked @revoked in ${recorded.file} line ${recorded.line}.`
    : `${key.host} presented the ${key.keyType} key ${key.fingerprintSha256}, ` +
      `but ${recorded.file} line ${recorded.line} records ${recorded.fingerprintSha256} for it.`;
  return [
    banner,
    `@  WARNING: THE HOST KEY OF ${key.host} HAS ${recorded.revoked ? "BEEN REVOKED" : "CHANGED"}!`,
    banner,
    "Someone could be intercepting this connection (a man-in-the-middle attack),",
    "or the host was reinstalled and got a new key. Backhaul refused to connect.",
    what,
    ...(recorded.revoked
      ? ["A revoked key must never be accepted: ask the host's owner for its current key."]
      : [
          "If you know the change is legitimate, remove the old key and connect again to record the new one:",
          `  ssh-keygen -R '${key.host}' -f '${recorded.file}'`,
        ]),
  ].join("\n");
}

/** "ED25519", "RSA", "ECDSA": the names ssh-keygen and OpenSSH's warnings use. */
export function keyTypeLabel(keyType: string): string {
  if (keyType.startsWith("ecdsa-sha2-")) return "ECDSA";
  if (keyType.startsWith("sk-ecdsa-")) return "ECDSA-SK";
  if (keyType.startsWith("sk-ssh-ed25519")) return "ED25519-SK";
  return keyType.replace(/^ssh-/, "").toUpperCase();
}

/**
 * The server offers a key of a type that is not recorded, while keys of other types are: never
 * accepted without the user (as OpenSSH warns), since an attacker holding none of the recorded
 * keys would offer just such a key.
 */
export class HostKeyOtherTypeError extends SshError {
  override readonly name = "HostKeyOtherTypeError";
  readonly code = "HOST_KEY_OTHER_TYPE";
  constructor(
    readonly key: HostKeyInfo,
    readonly recorded: ReadonlyArray<{
      file: string;
      line: number;
      keyType: string;
      fingerprintSha256: string;
    }>,
  ) {
    const onRecord = recorded
      .map(
        (entry) =>
          `${keyTypeLabel(entry.keyType)} ${entry.fingerprintSha256} (${entry.file} line ${entry.line})`,
      )
      .join(", ");
    const file = recorded[0]?.file ?? "known_hosts";
    super(
      `the host key of ${key.host} is not known, and the host has a key of another type on record: ${onRecord}; ` +
        `the server now offers ${keyTypeLabel(key.keyType)} ${key.fingerprintSha256}. ` +
        "Someone could be intercepting this connection with a key of another type, or the host's keys were replaced. " +
        `Backhaul refused to connect. If the host's owner confirms the new key, add it to ${file} ` +
        `(\`ssh-keyscan -t ${keyTypeLabel(key.keyType).toLowerCase()}\` prints the line), then connect again.`,
    );
  }
}

/** The transport failed: no common algorithm, a protocol error, a server that is not SSH. */
export class HandshakeFailedError extends SshError {
  override readonly name = "HandshakeFailedError";
  readonly code = "HANDSHAKE_FAILED";
}

/** A connection that was up went away (the session ends; reconnecting is the caller's choice). */
export class ConnectionLostError extends SshError {
  override readonly name = "ConnectionLostError";
  readonly code = "CONNECTION_LOST";
}
