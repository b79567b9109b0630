// Uploads that are checked before they count: the bytes go to a temporary name beside the final
// one, their SHA-256 is computed on the remote, and only matching bytes are renamed into place
// (atomic on the remote file system). A truncated or altered upload is removed and refused.
import { randomBytes } from "node:crypto";
import { sanitiseRemoteText } from "../../../shared/remote-text.js";
import { DeployFailedError } from "./errors.js";
import type { RemoteResult, RemoteShell } from "./remote-shell.js";
import { quoteShellArg } from "./shell-quote.js";

const CHECK_TIMEOUT_MS = 60_000;

export interface UploadRequest {
  localPath: string;
  /** Absolute. */
  remotePath: string;
  mode: number;
  sha256: string;
  /** Hashes with this Node.js when the remote has no sha256sum (busybox images without it). */
  node?: string;
  onProgress?: (sent: number, total: number) => void;
}

/**
 * `mkdir -p` of `dir` (absolute) for the user alone: new directories and `dir` itself get 0700.
 * A run that ended with no exit status (seen in the lab: the channel closed first, or a signal)
 * is run once more: the command can be repeated, and a first connect would otherwise end on it.
 */
export async function ensureRemoteDirectory(shell: RemoteShell, dir: string): Promise<void> {
  const q = quoteShellArg(dir);
  const command = `umask 077 && mkdir -p ${q} && chmod 700 ${q}`;
  let result = await shell.run(command, CHECK_TIMEOUT_MS);
  if (result.code === null) result = await shell.run(command, CHECK_TIMEOUT_MS);
  if (result.code !== 0)
    throw new DeployFailedError(`cannot create ${dir} on ${shell.label}: ${describeFailure(result)}`);
}

/** What a failed remote command said, or how it ended when it said nothing. */
export function describeFailure(result: RemoteResult): string {
  const said = sanitiseRemoteText(result.stderr).trim();
  if (said !== "") return said;
  if (result.code !== null) return `exit code ${result.code}`;
  return result.signal !== undefined
    ? `ended by ${sanitiseRemoteText(result.signal)}`
    : "it ended without an exit status (the SSH channel closed first)";
}

/**
 * A sh snippet printing the SHA-256 (hex) of the file at "$1": sha256sum, else node's crypto.
 * Read the file with `set -- FILE; …`.
 */
export function remoteSha256(node: string | undefined): string {
  const viaNode = node
    ? `${quoteShellArg(node)} -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$1"`
    : "echo 'no sha256sum and no Node.js to check the upload with' >&2; exit 1";
  return `if command -v sha256sum >/dev/null 2>&1; then sha256sum < "$1" | cut -d ' ' -f 1; else ${viaNode}; fi`;
}

export async function uploadVerified(shell: RemoteShell, request: UploadRequest): Promise<void> {
  const slash = request.remotePath.lastIndexOf("/");
  const temporary = `${request.remotePath.slice(0, slash + 1)}.${request.remotePath.slice(slash + 1)}.${randomBytes(4).toString("hex")}.tmp`;
  const tmp = quoteShellArg(temporary);
  try {
    await shell.put(request.localPath, temporary, request.mode, request.onProgress);
  } catch (error) {
    await shell.run(`rm -f ${tmp}`, CHECK_TIMEOUT_MS).catch(() => undefined);
    throw new DeployFailedError(
      `uploading ${request.remotePath} to ${shell.label} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const check =
    `set -- ${tmp}; sum=$(${remoteSha256(request.node)}) || exit 1; ` +
    `if [ "$sum" = ${request.sha256} ]; then mv -f ${tmp} ${quoteShellArg(request.remotePath)}; ` +
    `else rm -f ${tmp}; printf 'its SHA-256 is %s\\n' "$sum" >&2; exit 2; fi`;
  const result = await shell.run(check, CHECK_TIMEOUT_MS);
  if (result.code !== 0) {
    await shell.run(`rm -f ${tmp}`, CHECK_TIMEOUT_MS).catch(() => undefined);
    const said = sanitiseRemoteText(result.stderr).trim();
    throw new DeployFailedError(
      `${request.remotePath} on ${shell.label} does not match what was uploaded (${said || `exit code ${result.code}`})`,
    );
  }
}
