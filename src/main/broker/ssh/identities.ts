// Private keys from identity files, decrypted with a passphrase from the user when they need one.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
// ssh2 is CommonJS: only a few of its exports are visible as ESM named imports.
import ssh2, { type ParsedKey } from "ssh2";

/** ssh's defaults, in its order, when no -i is given. */
export function defaultIdentityFiles(home = homedir()): string[] {
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((name) => join(home, ".ssh", name));
}

/** Asks for the passphrase of `file`; null means the user declined. */
export type PassphrasePrompt = (file: string) => Promise<string | null>;

export type IdentityLoad =
  | { status: "loaded"; file: string; key: ParsedKey }
  | { status: "missing"; file: string }
  | { status: "skipped"; file: string; reason: string };

export const PASSPHRASE_ATTEMPTS = 3;

/** ssh2 returns an array for some formats, a key, or an Error; one key is all a file holds here. */
function parse(data: Buffer, passphrase?: string): ParsedKey | Error {
  const parsed = ssh2.utils.parseKey(data, passphrase) as ParsedKey | ParsedKey[] | Error;
  if (Array.isArray(parsed)) return parsed[0] ?? new Error("the file holds no key");
  return parsed;
}

export async function loadIdentity(file: string, prompt?: PassphrasePrompt): Promise<IdentityLoad> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ENOENT") return { status: "missing", file };
    return { status: "skipped", file, reason: `cannot read it (${(error as Error).message})` };
  }
  let parsed = parse(data);
  if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
    if (!prompt)
      return { status: "skipped", file, reason: "encrypted, and no way to ask for its passphrase" };
    for (let attempt = 1; attempt <= PASSPHRASE_ATTEMPTS; attempt++) {
      const passphrase = await prompt(file);
      if (passphrase === null) return { status: "skipped", file, reason: "encrypted; no passphrase given" };
      parsed = parse(data, passphrase);
      if (!(parsed instanceof Error)) break;
    }
    if (parsed instanceof Error)
      return { status: "skipped", file, reason: `wrong passphrase (${PASSPHRASE_ATTEMPTS} tries)` };
  }
  if (parsed instanceof Error)
    return { status: "skipped", file, reason: `not a usable key (${parsed.message})` };
  if (!parsed.isPrivateKey())
    return { status: "skipped", file, reason: "holds a public key, not a private one" };
  return { status: "loaded", file, key: parsed };
}
