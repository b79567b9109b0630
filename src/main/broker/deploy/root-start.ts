// How root starts the agent. The upload lands in the remote user's cache, which every process of
// that user can rewrite at any moment: checking its hash at probe time and then letting sudo run
// it from there would run whatever was swapped in meanwhile, as root. So the command sudo runs
// is a fixed script that, as root, copies the agent and its addon into a root-owned 0700
// directory, checks their SHA-256 there, and runs only that copy (or refuses, saying why).
import { shellCommand } from "./shell-quote.js";

/** Where root keeps verified copies: /run is root's (tmpfs, emptied at boot, as the journal). */
export const ROOT_AGENT_DIR = "/run/backhaul/agent";
/** A file bigger than this is not ours: the copy stops there, and its hash then differs. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** The same for the Node.js runtime we bring (about 100 MB). */
const MAX_RUNTIME_BYTES = 256 * 1024 * 1024;
/** sh's exit status for "found but not executable": the agent was refused, not run. */
export const REFUSED_EXIT_CODE = 126;
/**
 * The script's first line on stderr: sudo let it run. Whatever came before it (sudo's lecture,
 * its prompt, its complaints) is sudo's, and never shown as the agent's.
 */
export const ROOT_STARTED_LINE = "backhaul: the root start script runs";
/**
 * What `sudo -S` writes to stderr when it wants the password: ours, so that it is recognised
 * (and a second one means the password was refused). No `%`: sudo expands those.
 */
export const SUDO_PASSWORD_PROMPT = "[backhaul: sudo password]";

/** How sudo is asked: `-n` fails rather than ask; `-S` reads the password from stdin when it asks. */
export type SudoMode = "no-password" | "password";

export function sudoArgv(mode: SudoMode): string[] {
  return mode === "no-password" ? ["sudo", "-n"] : ["sudo", "-S", "-p", SUDO_PASSWORD_PROMPT];
}

export interface RootStartRequest {
  /** Node.js on the remote, as the probe found it, or the runtime we uploaded. */
  nodePath: string;
  /** For the runtime we uploaded: its SHA-256. Root copies and checks it as it does the agent. */
  nodeSha256?: string;
  /** The user's cache directory holding the two files. */
  sourceDir: string;
  agentFile: { name: string; sha256: string };
  addonFile: { name: string; sha256: string };
  /** Default ROOT_AGENT_DIR; tests use a directory of their own. */
  rootDir?: string;
}

/**
 * The script, one line of `;`-separated statements without `!` (csh expands it even inside
 * single quotes, and a newline there too). Its positional parameters: agent hash, addon hash, source directory, node,
 * the runtime's hash ("-": node is the remote's own, run as is), then the agent's own arguments. The directory
 * names and limits are part of the text.
 */
export function rootStartScript(rootDir: string, agentName: string, addonName: string): string {
  const statements = [
    "set -eu",
    `printf '%s\\n' ${shellCommand([ROOT_STARTED_LINE])} >&2`,
    "umask 077",
    `base=${shellCommand([rootDir])}`,
    `agent=${shellCommand([agentName])}`,
    `addon=${shellCommand([addonName])}`,
    "agent_sha=$1; addon_sha=$2; src=$3; node=$4; node_sha=$5; shift 5",
    `fail() { printf 'backhaul: refusing to start the agent as root: %s\\n' "$1" >&2; exit ${REFUSED_EXIT_CODE}; }`,
    'mkdir -p "$base" || fail "cannot create $base"',
    // The directory and its parent must be root's own: nobody else may swap what is inside.
    'for d in "${base%/*}" "$base"; do if [ -L "$d" ] || [ "$(stat -c %u "$d")" -ne 0 ]; then fail "$d is not a directory owned by root"; fi; done',
    'chmod 700 "$base"',
    // sha256sum is in coreutils; without it, node's crypto, run by root on root's copy.
    "sha() { if command -v sha256sum >/dev/null 2>&1; then sha256sum < \"$1\" | cut -d ' ' -f 1; " +
      `else "$node" -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$1"; fi; }`,
    'verified() { [ "$(sha "$1/$agent")" = "$agent_sha" ] && [ "$(sha "$1/$addon")" = "$addon_sha" ]; }',
    // The runtime we brought lives in the user's cache too: root runs only its own checked copy.
    'if [ "$node_sha" != - ]; then ' +
      'command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is missing: the Node.js runtime cannot be checked"; ' +
      'rt="$base/node-$node_sha"; ' +
      // Root's own copy is made only by the checked mv below, in root's 0700 directory: not hashed again.
      'if [ -f "$rt/node" ]; then :; else ' +
      'rm -rf "$rt"; t=$(mktemp -d "$base/.incoming.XXXXXX"); ' +
      `head -c ${MAX_RUNTIME_BYTES} < "$node" > "$t/node" || { rm -rf "$t"; fail "cannot read $node"; }; ` +
      '[ "$(sha "$t/node")" = "$node_sha" ] || { rm -rf "$t"; fail "$node is not the Node.js runtime that was uploaded (its SHA-256 differs)"; }; ' +
      'chmod 700 "$t/node"; mv "$t" "$rt"; fi; node="$rt/node"; fi',
    'dir="$base/$agent_sha-$addon_sha"',
    'if [ -d "$dir" ] && verified "$dir"; then exec "$node" "$dir/$agent" "$@"; fi',
    'tmp=$(mktemp -d "$base/.incoming.XXXXXX")',
    `for f in "$agent" "$addon"; do head -c ${MAX_FILE_BYTES} < "$src/$f" > "$tmp/$f" || { rm -rf "$tmp"; fail "cannot read $src/$f"; }; done`,
    'verified "$tmp" || { rm -rf "$tmp"; fail "$src does not hold the files that were uploaded (their SHA-256 differs): they were changed after the upload"; }',
    'rm -rf "$dir"',
    'mv "$tmp" "$dir"',
    'exec "$node" "$dir/$agent" "$@"',
  ];
  return statements.join("; ");
}

/** The argv after sudo's own (sudoArgv): runs the verified copy; the agent's own arguments follow. */
export function rootStartCommand(request: RootStartRequest): string[] {
  const script = rootStartScript(
    request.rootDir ?? ROOT_AGENT_DIR,
    request.agentFile.name,
    request.addonFile.name,
  );
  return [
    "sh",
    "-c",
    script,
    "backhaul-agent-start",
    request.agentFile.sha256,
    request.addonFile.sha256,
    request.sourceDir,
    request.nodePath,
    request.nodeSha256 ?? "-",
  ];
}
