// What the user can connect to. A target is typed as one of:
//   codespace:NAME            a GitHub Codespace, looked up through `gh`
//   ssh://[user@]host[:port]  an SSH URL
//   ALIAS                     a Host from ~/.ssh/config
//   [user@]host               ssh's own shorthand
//   exec:COMMAND              a command whose stdin and stdout reach a shell on the remote
//   NAME                      an exec: target saved under that name (the window's settings)
// SSH targets get the ssh config's settings for their host, as ssh would apply them; what was
// typed (user, port) wins over the config, as ssh's command line does.
import { listCodespaces } from "./codespaces.js";
import { TargetError } from "./errors.js";
import type { GhOptions } from "./gh.js";
import { SshConfig, type SshConfigOptions } from "./ssh-config.js";
import { isSshUrl, parseSshUrl, parseUserAtHost } from "./ssh-url.js";
import { execTarget, isExecSpec, savedExecTargets, type SavedExecTarget } from "./exec-target.js";
import type { CodespaceTarget, Target, TargetListing } from "./types.js";

export type { CodespaceTarget, ExecTarget, SshTarget, Target, TargetListing } from "./types.js";
export { targetName } from "./types.js";
export { execTarget, EXEC_PREFIX, type SavedExecTarget } from "./exec-target.js";
export { TargetError, type TargetErrorCode } from "./errors.js";
export { parseSshAddress, type SshAddress } from "./ssh-url.js";
export { SshConfig, type HostRequest, type SshConfigOptions } from "./ssh-config.js";
export type { GhOptions } from "./gh.js";
export {
  codespaceSshTarget,
  listCodespaces,
  startCodespace,
  type CodespaceSshOptions,
  type StartOptions,
  type StartProgress,
} from "./codespaces.js";
export { ensureCodespaceKey } from "./codespace-key.js";

export interface TargetDeps {
  /** Where the ssh config is and whose it is; defaults are the user's own. */
  sshConfig?: SshConfigOptions;
  /** How to run `gh`; default `gh` on PATH. */
  gh?: GhOptions;
  /** Config lines that were skipped while resolving, worth showing the user. */
  onWarning?: (warning: string) => void;
  /** `exec:` targets saved with a name: listed, and connected to by that name. */
  savedExec?: readonly SavedExecTarget[];
}

const CODESPACE_PREFIX = /^codespace:/i;

/** The target `spec` names; a TargetError says what to type instead when it names none. */
export async function resolveTarget(spec: string, deps: TargetDeps = {}): Promise<Target> {
  const typed = spec.trim();
  if (isExecSpec(typed)) {
    const target = execTarget(typed);
    const saved = deps.savedExec?.find((entry) => entry.command.trim() === target.command);
    return saved ? { ...target, label: saved.name } : target;
  }
  const named = deps.savedExec?.find((entry) => entry.name === typed);
  if (named) return execTarget(`exec:${named.command}`, named.name);
  if (CODESPACE_PREFIX.test(typed)) return findCodespace(typed.replace(CODESPACE_PREFIX, "").trim(), deps);
  const config = await SshConfig.load(deps.sshConfig);
  try {
    if (isSshUrl(typed)) {
      const { user, host, port } = parseSshUrl(typed);
      return config.resolveHost(host, { user, port, label: typed, source: "url" });
    }
    const aliases = config.hostAliases();
    if (aliases.includes(typed)) return config.resolveHost(typed);
    const { user, host } = parseUserAtHost(typed);
    return config.resolveHost(host, {
      user,
      label: typed,
      source: aliases.includes(host) ? "ssh-config" : "url",
    });
  } finally {
    config.warnings.forEach((warning) => deps.onWarning?.(warning));
  }
}

/** SSH config hosts and codespaces; a provider that fails is a warning, the other still listed. */
export async function listTargets(deps: TargetDeps = {}): Promise<TargetListing> {
  const [config, codespaces] = await Promise.allSettled([
    SshConfig.load(deps.sshConfig),
    listCodespaces(deps.gh),
  ]);
  const listing: TargetListing = { ssh: [], codespaces: [], exec: [], warnings: [] };
  listing.exec = savedExecTargets(deps.savedExec ?? [], (warning) => listing.warnings.push(warning));
  if (config.status === "fulfilled") {
    listing.ssh = config.value.listHosts();
    listing.warnings.push(...config.value.warnings.map((warning) => `SSH config: ${warning}`));
  } else {
    listing.warnings.push(`SSH config: ${message(config.reason)}`);
  }
  if (codespaces.status === "fulfilled") listing.codespaces = codespaces.value;
  else listing.warnings.push(`Codespaces: ${message(codespaces.reason)}`);
  return listing;
}

async function findCodespace(name: string, deps: TargetDeps): Promise<CodespaceTarget> {
  if (name === "") {
    throw new TargetError("bad-spec", "type codespace:NAME, with a NAME from `gh codespace list`");
  }
  const codespaces = await listCodespaces(deps.gh);
  const found = codespaces.find((codespace) => codespace.name === name);
  if (found !== undefined) return found;
  const yours = codespaces.map((codespace) => `codespace:${codespace.name} (${codespace.displayName})`);
  throw new TargetError(
    "codespace-not-found",
    `you have no codespace named ${name}: ` +
      (yours.length > 0 ? `type one of ${yours.join(", ")}` : "create one with `gh codespace create`"),
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
