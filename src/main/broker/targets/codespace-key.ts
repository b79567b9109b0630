// The key pair `gh` uses for codespaces, ~/.ssh/codespaces.auto(.pub). The ProxyCommand gh prints
// passes `-i ~/.ssh/codespaces.auto`, and gh trusts a key given with -i without creating it: it
// creates the pair only in an interactive `gh codespace ssh`. So a user who never ran that has no
// key, and we create it the way gh does (pkg/ssh GenerateSSHKey: ed25519, empty comment, no
// passphrase), so that both tools keep sharing one key.
import { constants } from "node:fs";
import { access, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { generateEd25519KeyPair } from "../ssh/generate-key.js";
import { TargetError } from "./errors.js";

/** Creates the pair at `privateKeyPath` when it is missing; true when it did. */
export async function ensureCodespaceKey(privateKeyPath: string): Promise<boolean> {
  if ((await exists(privateKeyPath)) && (await exists(`${privateKeyPath}.pub`))) return false;
  if (await exists(privateKeyPath)) {
    throw new TargetError(
      "codespace-key",
      `${privateKeyPath} exists but ${privateKeyPath}.pub does not: ` +
        `recreate it with \`ssh-keygen -y -f ${privateKeyPath} > ${privateKeyPath}.pub\``,
    );
  }
  try {
    const pair = generateEd25519KeyPair({ comment: "" });
    await mkdir(dirname(privateKeyPath), { recursive: true, mode: 0o700 });
    // "wx": never overwrite a key another process (gh itself) has just written.
    await writeFile(privateKeyPath, pair.private, { mode: 0o600, flag: "wx" });
    await writeFile(`${privateKeyPath}.pub`, `${pair.public}\n`, { mode: 0o644, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new TargetError(
      "codespace-key",
      `cannot create the codespace key ${privateKeyPath} (${(error as Error).message}): ` +
        `run \`gh codespace ssh\` once to let gh create it`,
      { cause: error },
    );
  }
  return true;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
