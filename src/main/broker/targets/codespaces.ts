// GitHub Codespaces through `gh`: list them, start one, and ask `gh` for the SSH config it uses
// itself (`gh codespace ssh --config`), whose ProxyCommand relays SSH over `gh`'s own
// authenticated tunnel. What gh prints was read in cli/cli (pkg/cmd/codespace/ssh.go,
// printOpenSSHConfig): a `Host cs.NAME.BRANCH` block with User, ProxyCommand
// `GH cs ssh -c NAME --stdio -- -i ~/.ssh/codespaces.auto`, UserKnownHostsFile=/dev/null,
// StrictHostKeyChecking no and IdentityFile ~/.ssh/codespaces.auto (as absolute paths).
import { setTimeout as sleep } from "node:timers/promises";
import { TargetError } from "./errors.js";
import { gh, ghFailure, runGh, type GhOptions } from "./gh.js";
import { SshConfig, type SshConfigOptions } from "./ssh-config.js";
import type { CodespaceTarget, SshTarget } from "./types.js";

/** Fields of `gh codespace list --json` (api.ListCodespaceFields); gh refuses unknown ones. */
export const LIST_FIELDS = "name,displayName,repository,gitStatus,state,machineName";
/** gh lists 30 by default; ask for more so that `codespace:NAME` finds every one. */
const LIST_LIMIT = "100";

const LIST_TIMEOUT_MS = 60_000;
/** `--config` connects to the codespace, starting it if it is stopped: that can take minutes. */
const CONFIG_TIMEOUT_MS = 5 * 60_000;
const API_TIMEOUT_MS = 60_000;

export async function listCodespaces(options: GhOptions = {}): Promise<CodespaceTarget[]> {
  const stdout = await gh(
    ["codespace", "list", "--json", LIST_FIELDS, "--limit", LIST_LIMIT],
    LIST_TIMEOUT_MS,
    options,
  );
  return parseCodespaceList(stdout);
}

/** `gh codespace list --json LIST_FIELDS` output as targets. */
export function parseCodespaceList(json: string): CodespaceTarget[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw badOutput("codespace list", "it is not JSON");
  }
  if (!Array.isArray(data)) throw badOutput("codespace list", "it is not a JSON array");
  return data.map((item: unknown, index) => {
    const record = isRecord(item) ? item : {};
    const name = record["name"];
    if (typeof name !== "string" || name === "")
      throw badOutput("codespace list", `entry ${index} has no name`);
    const gitStatus = record["gitStatus"];
    const ref = isRecord(gitStatus) ? text(gitStatus["ref"]) : "";
    return {
      kind: "codespace",
      name,
      displayName: text(record["displayName"]) || name,
      repository: text(record["repository"]),
      branch: ref || null,
      state: text(record["state"]) || "Unknown",
      machine: text(record["machineName"]) || null,
    };
  });
}

export interface CodespaceSshOptions extends GhOptions {
  /** For ~ and %-tokens in what gh prints (home, local user); defaults as in SshConfig. */
  sshConfig?: Omit<SshConfigOptions, "userConfigPath" | "systemConfigPath">;
}

/**
 * The SSH target GitHub's own tools use for codespace `name`, from `gh codespace ssh --config`.
 * gh starts a stopped codespace first, so this can take a minute; see startCodespace() to show
 * that as a step of its own.
 */
export async function codespaceSshTarget(
  name: string,
  options: CodespaceSshOptions = {},
): Promise<SshTarget> {
  checkName(name);
  const args = ["codespace", "ssh", "--config", "-c", name];
  const result = await runGh(args, CONFIG_TIMEOUT_MS, options);
  if (result.code !== 0) throw notFoundOr(name, args, result);
  const config = SshConfig.fromText(result.stdout, `gh ${args.join(" ")}`, options.sshConfig);
  const [alias] = config.hostAliases();
  if (alias === undefined) {
    throw new TargetError(
      "gh-failed",
      `\`gh ${args.join(" ")}\` printed no Host block; check that codespace ${name} runs an SSH server ` +
        `(the devcontainer feature ghcr.io/devcontainers/features/sshd) and try again`,
    );
  }
  return config.resolveHost(alias, { label: `codespace:${name}`, source: "codespace" });
}

/** One step of starting a codespace, for the UI: the state GitHub reports, and what it means. */
export interface StartProgress {
  state: string;
  message: string;
}

export interface StartOptions extends GhOptions {
  /** Default: 3 s. */
  pollIntervalMs?: number;
  /** Default: 5 minutes; GitHub usually needs under one. */
  timeoutMs?: number;
}

/** States from which a codespace does not become Available by being started. */
const DEAD_STATES = new Set(["Failed", "Deleted", "Archived", "Moved", "Unavailable"]);

/**
 * Starts codespace `name` (GitHub's REST `POST /user/codespaces/NAME/start`, through `gh api`, as
 * gh has no `codespace start`) and polls `gh codespace view` until it is Available.
 */
export async function startCodespace(
  name: string,
  onProgress: (progress: StartProgress) => void,
  options: StartOptions = {},
): Promise<void> {
  checkName(name);
  const interval = options.pollIntervalMs ?? 3000;
  const deadline = Date.now() + (options.timeoutMs ?? 5 * 60_000);
  let state = await codespaceState(name, options);
  let last = "";
  const report = (current: string): void => {
    if (current === last) return;
    last = current;
    onProgress({ state: current, message: describeState(name, current) });
  };
  report(state);
  while (state !== "Available") {
    if (DEAD_STATES.has(state)) {
      throw new TargetError(
        "codespace-start",
        `codespace ${name} is ${state} and cannot be started: see https://github.com/codespaces`,
      );
    }
    // A Shutdown codespace needs asking; one that is shutting down needs asking again afterwards.
    if (state === "Shutdown") await requestStart(name, options);
    if (Date.now() >= deadline) {
      throw new TargetError(
        "codespace-start",
        `codespace ${name} is still ${state}; try again, or open https://github.com/codespaces to see why`,
      );
    }
    await sleep(interval, undefined, { signal: options.signal });
    state = await codespaceState(name, options);
    report(state);
  }
}

async function requestStart(name: string, options: GhOptions): Promise<void> {
  const args = ["api", "--method", "POST", `user/codespaces/${name}/start`];
  const result = await runGh(args, API_TIMEOUT_MS, options);
  // 409: already starting or running, which gh's own StartCodespace also takes as success.
  if (result.code === 0 || /HTTP 409/.test(result.stderr)) return;
  throw notFoundOr(name, args, result);
}

async function codespaceState(name: string, options: GhOptions): Promise<string> {
  const args = ["codespace", "view", "-c", name, "--json", "state"];
  const result = await runGh(args, API_TIMEOUT_MS, options);
  if (result.code !== 0) throw notFoundOr(name, args, result);
  let data: unknown;
  try {
    data = JSON.parse(result.stdout);
  } catch {
    throw badOutput("codespace view", "it is not JSON");
  }
  const state = isRecord(data) ? data["state"] : undefined;
  if (typeof state !== "string") throw badOutput("codespace view", "it has no state");
  return state;
}

function describeState(name: string, state: string): string {
  switch (state) {
    case "Available":
      return `Codespace ${name} is running`;
    case "Shutdown":
      return `Starting codespace ${name} (this can take a minute)`;
    case "ShuttingDown":
      return `Codespace ${name} is still shutting down; it will be started again`;
    default:
      return `Codespace ${name} is ${state}`;
  }
}

function notFoundOr(
  name: string,
  args: readonly string[],
  result: { code: number; stdout: string; stderr: string },
) {
  const error = ghFailure(args, result);
  if (error.code === "gh-failed" && /HTTP 404|not found/i.test(result.stderr)) {
    return new TargetError(
      "codespace-not-found",
      `you have no codespace named ${name}: run \`gh codespace list\` to see yours`,
    );
  }
  return error;
}

// Codespace names are GitHub-generated slugs; refusing anything else keeps them safe in an API path.
function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes("..")) {
    throw new TargetError(
      "bad-spec",
      `"${name}" is not a codespace name: run \`gh codespace list\` and use the NAME column`,
    );
  }
}

function badOutput(command: string, why: string): TargetError {
  return new TargetError(
    "gh-failed",
    `\`gh ${command}\` printed something unexpected (${why}): upgrade GitHub CLI`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}
