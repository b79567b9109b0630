// Runs GitHub's CLI, `gh`, and turns its failures into TargetErrors that say what to run. We go
// through `gh` rather than GitHub's API so that the user's existing login, hosts and token
// storage are the ones used, and so that `gh` relays the codespace's SSH (see codespaces.ts).
import { CommandError, runCommand } from "../../../helper/engines/run-command.js";
import { TargetError } from "./errors.js";

export interface GhOptions {
  /** The gh executable; default `gh` on PATH. */
  ghPath?: string;
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
}

export interface GhResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const INSTALL_GH = "install GitHub CLI: https://cli.github.com";
export const LOGIN_GH = "gh auth login";
export const SCOPE_GH = "gh auth refresh -h github.com -s codespace";

/**
 * Runs `gh args`; resolves with its exit code and output whatever the code, rejects only when gh
 * could not be run or did not finish within `timeoutMs`.
 */
export async function runGh(
  args: readonly string[],
  timeoutMs: number,
  options: GhOptions = {},
): Promise<GhResult> {
  const gh = options.ghPath ?? "gh";
  const env = {
    ...(options.env ?? process.env),
    // Never wait on a prompt nobody sees; keep stderr free of colour codes and update notices.
    GH_PROMPT_DISABLED: "1",
    GH_NO_UPDATE_NOTIFIER: "1",
    GH_SPINNER_DISABLED: "1",
    NO_COLOR: "1",
  };
  const runOptions = { env, timeoutMs, killSignal: "SIGKILL" as const, signal: options.signal, name: "gh" };
  try {
    return { code: 0, ...(await runCommand(gh, args, runOptions)) };
  } catch (error) {
    if (!(error instanceof CommandError)) throw error; // an abort
    if (error.reason === "failed" && error.exitCode !== null) {
      return { code: error.exitCode, stdout: error.stdout, stderr: error.stderr };
    }
    if (error.reason === "not-found") {
      const where = gh === "gh" ? "on PATH" : `at ${gh}`;
      throw new TargetError("gh-missing", `GitHub CLI (gh) was not found ${where}: ${INSTALL_GH}`);
    }
    if (error.reason === "not-permitted") {
      throw new TargetError("gh-missing", `${gh} cannot be run (permission denied): ${INSTALL_GH}`);
    }
    if (error.reason === "timed-out") {
      throw new TargetError(
        "gh-failed",
        `\`gh ${args.join(" ")}\` gave no answer within ${timeoutMs / 1000} s`,
      );
    }
    throw new TargetError("gh-failed", `\`gh ${args.join(" ")}\` could not run: ${error.detail}`);
  }
}

/** What a failed `gh` run means for the user, from its exit code and what it printed. */
export function ghFailure(args: readonly string[], result: GhResult): TargetError {
  const said = result.stderr.trim() || result.stdout.trim();
  // gh's own hint after a 403/404 for a token without the scope (api.HTTPError.ScopesSuggestion).
  if (/needs the "codespace" scope|auth refresh\b.*-s codespace/i.test(said)) {
    return new TargetError(
      "gh-missing-scope",
      `GitHub CLI's login lacks the codespace scope: run \`${SCOPE_GH}\`, then try again`,
    );
  }
  // Exit 4 is gh's "authentication required"; a rejected token says HTTP 401 instead.
  if (result.code === 4 || /gh auth login|not logged in|HTTP 401|Bad credentials/i.test(said)) {
    return new TargetError(
      "gh-not-logged-in",
      `GitHub CLI is not logged in to GitHub: run \`${LOGIN_GH}\`, then try again`,
    );
  }
  if (/unknown JSON field|unknown flag|unknown shorthand flag|unknown command/i.test(said)) {
    return new TargetError(
      "gh-too-old",
      `this GitHub CLI is too old for \`gh ${args.join(" ")}\` (${firstLine(said)}): upgrade it: https://cli.github.com`,
    );
  }
  return new TargetError(
    "gh-failed",
    `\`gh ${args.join(" ")}\` failed (exit ${result.code}): ${excerpt(said)}`,
  );
}

/** Runs `gh args` and returns its stdout; a failure becomes ghFailure()'s TargetError. */
export async function gh(
  args: readonly string[],
  timeoutMs: number,
  options: GhOptions = {},
): Promise<string> {
  const result = await runGh(args, timeoutMs, options);
  if (result.code !== 0) throw ghFailure(args, result);
  return result.stdout;
}

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? "";
}

function excerpt(text: string): string {
  if (text === "") return "it printed nothing";
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.slice(0, 3).join(" / ").slice(0, 400);
}
