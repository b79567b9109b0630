// Deciding whether to trust the key a server presents: known_hosts, then the policy, then the user.
import type { ServerHostKeyAlgorithm } from "ssh2";
import {
  HostKeyChangedError,
  HostKeyOtherTypeError,
  HostKeyUnknownError,
  type HostKeyInfo,
} from "./errors.js";
import { recordHostKey } from "./known-hosts-file.js";
import { blobKeyType, checkHostKey, fingerprintSha256, type KnownHostEntry } from "./known-hosts.js";

/**
 * "strict": only recorded keys. "accept-new": record keys of hosts with none recorded, refuse
 * changed ones and keys of another type than the recorded ones.
 * "off": accept anything, only for a transport that authenticates the host itself (the Codespaces
 * relay, which `gh` authenticates).
 */
export type HostKeyPolicy = "strict" | "accept-new" | "off";

export interface HostKeyCheckOptions {
  /** From hostLookupName(). */
  name: string;
  entries: readonly KnownHostEntry[];
  /** The first is where a newly accepted key is recorded. */
  knownHostsFiles: readonly string[];
  policy: HostKeyPolicy;
  /** Asks the user about an unknown key; without it an unknown key is refused (unless accept-new). */
  confirmNewHostKey?: ((info: HostKeyInfo) => Promise<boolean>) | undefined;
}

export function describeHostKey(name: string, key: Buffer): HostKeyInfo {
  return { host: name, keyType: blobKeyType(key) ?? "unknown", fingerprintSha256: fingerprintSha256(key) };
}

/** Resolves when the key is trusted (recording it if newly accepted); throws a HostKey*Error otherwise. */
export async function verifyHostKey(key: Buffer, options: HostKeyCheckOptions): Promise<void> {
  if (options.policy === "off") return;
  const info = describeHostKey(options.name, key);
  const check = checkHostKey(options.entries, options.name, key);
  if (check.status === "known") return;
  if (check.status === "changed") {
    throw new HostKeyChangedError(info, {
      file: check.entry.file,
      line: check.entry.line,
      fingerprintSha256: fingerprintSha256(check.entry.key),
      revoked: check.revoked,
    });
  }
  if (check.status === "other-type") {
    throw new HostKeyOtherTypeError(
      info,
      check.recorded.map((entry) => ({
        file: entry.file,
        line: entry.line,
        keyType: entry.keyType,
        fingerprintSha256: fingerprintSha256(entry.key),
      })),
    );
  }
  const file = options.knownHostsFiles[0];
  if (file === undefined)
    throw new HostKeyUnknownError(info, "a known_hosts file", "no known_hosts file is configured");
  let accepted = options.policy === "accept-new";
  if (!accepted && options.confirmNewHostKey) accepted = await options.confirmNewHostKey(info);
  if (!accepted) {
    const reason = options.confirmNewHostKey ? "you did not accept it" : "host key checking is strict";
    throw new HostKeyUnknownError(info, file, reason);
  }
  await recordHostKey(file, options.name, key);
}

const ALGORITHMS_FOR_KEY_TYPE: Readonly<Record<string, readonly ServerHostKeyAlgorithm[]>> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/**
 * Host key algorithms to ask for first, as ssh does: a server with several host keys would
 * otherwise show one we have not recorded and look unknown.
 */
export function preferredHostKeyAlgorithms(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  return knownTypes.flatMap((type) => ALGORITHMS_FOR_KEY_TYPE[type] ?? []);
}
