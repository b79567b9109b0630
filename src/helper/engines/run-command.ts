/**
 * The one way Backhaul runs a program and waits for it (ip, resolvectl, netstat, PowerShell, gh):
 * execFile, never a shell, always with a timeout, and one error class that says the command, its
 * exit code and what it printed. Callers put their own meaning on top (a RouteTableError, "the
 * route is already gone"); long-running children (the helper, the agent, a route monitor) are
 * spawned where they are supervised, not here.
 */
import { execFile } from "node:child_process";

export interface RunCommandOptions {
  timeoutMs: number;
  /** Output beyond this fails the command; a router's full table is megabytes. Default 16 MiB. */
  maxOutputBytes?: number;
  /** Default SIGTERM; SIGKILL for programs that may ignore it while hung. */
  killSignal?: NodeJS.Signals;
  env?: NodeJS.ProcessEnv;
  /** How the output is decoded; default utf8. */
  encoding?: "utf8" | "latin1";
  /** An abort rejects with the AbortError itself, not a CommandError: nobody failed. */
  signal?: AbortSignal;
  /** The program's name in messages, when `file` is a path chosen by a test or a flag. */
  name?: string;
  /** Said after "not found": how to get the program ("install iproute2"). */
  installHint?: string;
}

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

export type CommandFailure = "not-found" | "not-permitted" | "failed" | "timed-out";

export class CommandError extends Error {
  override readonly name = "CommandError";
  readonly reason: CommandFailure;
  /** What the command said (stderr, else stdout), or why it could not run. */
  readonly detail: string;
  /** The exit code when the program ran and exited non-zero. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    readonly file: string,
    readonly args: readonly string[],
    failure: {
      reason: CommandFailure;
      detail: string;
      exitCode?: number | null;
      stdout?: string;
      stderr?: string;
    },
    /** `program`: the name to show in place of `file` (RunCommandOptions.name). */
    options: { cause?: unknown; program?: string } = {},
  ) {
    const exitCode = failure.exitCode ?? null;
    const exit = exitCode === null ? "" : ` (exit ${exitCode})`;
    const command = [options.program ?? file, ...args].join(" ");
    super(`\`${command}\` failed${exit}: ${failure.detail}`, { cause: options.cause });
    this.reason = failure.reason;
    this.detail = failure.detail;
    this.exitCode = exitCode;
    this.stdout = failure.stdout ?? "";
    this.stderr = failure.stderr ?? "";
  }
}

const DEFAULT_MAX_OUTPUT_BYTES = 16 << 20;

/** Resolves with the output of a zero exit; rejects with a CommandError otherwise. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandOutput> {
  const execOptions = {
    timeout: options.timeoutMs,
    maxBuffer: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    killSignal: options.killSignal ?? "SIGTERM",
    encoding: options.encoding ?? "utf8",
    env: options.env,
    signal: options.signal,
    windowsHide: true,
  };
  return new Promise((resolve, reject) => {
    execFile(file, [...args], execOptions, (error, stdout, stderr) => {
      if (error === null) return resolve({ stdout, stderr });
      if (error.name === "AbortError") return reject(error);
      const code = (error as NodeJS.ErrnoException).code;
      const fail = (reason: CommandFailure, detail: string, exitCode: number | null = null): void =>
        reject(
          new CommandError(
            file,
            args,
            { reason, detail, exitCode, stdout, stderr },
            { cause: error, program: options.name },
          ),
        );
      const hint = options.installHint === undefined ? "" : `: ${options.installHint}`;
      if (code === "ENOENT") fail("not-found", `\`${file}\` was not found${hint}`);
      else if (code === "EACCES") fail("not-permitted", `\`${file}\` cannot be run (permission denied)`);
      else if (error.killed) fail("timed-out", `no answer within ${options.timeoutMs} ms`);
      else
        fail(
          "failed",
          stderr.trim() || stdout.trim() || error.message,
          typeof code === "number" ? code : null,
        );
    });
  });
}
