// Running commands for the namespace tests: short ones bounded by a timeout, long-running ones
// tracked by PID so they can be stopped (SIGTERM, then SIGKILL) — never by name.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface CommandResult {
  /** Exit code, or null when killed by a signal (e.g. on timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** Runs a command to completion; resolves with its result whatever the exit code. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      {
        timeout: timeoutMs,
        killSignal: "SIGKILL",
        cwd: options.cwd,
        env: options.env,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code === "string") {
          reject(new Error(`cannot run ${file}: ${error.message}`, { cause: error }));
          return;
        }
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        const signal = (error?.signal as NodeJS.Signals | undefined) ?? null;
        resolve({ code, signal, stdout, stderr, timedOut: Boolean(error?.killed) });
      },
    );
  });
}

export function describeResult(file: string, args: readonly string[], result: CommandResult): string {
  const how = result.timedOut
    ? "timed out"
    : result.signal
      ? `died of ${result.signal}`
      : `exited ${result.code}`;
  const output = [result.stderr.trim(), result.stdout.trim()].filter(Boolean).join("\n");
  return `\`${[file, ...args].join(" ")}\` ${how}${output ? `:\n${output}` : ""}`;
}

/** Runs a command and throws, with its output, unless it exits 0. */
export async function runChecked(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(file, args, options);
  if (result.code !== 0) throw new Error(describeResult(file, args, result));
  return result;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running child process, stopped by its PID only. */
export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly description: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.once("error", () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Waits for exit; rejects after `timeoutMs` without killing anything. */
  async waitForExit(timeoutMs: number): Promise<ExitInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.description} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM by PID, then SIGKILL after `graceMs`. Safe to call more than once. */
  async stop(graceMs = 2_000): Promise<ExitInfo> {
    const pid = this.child.pid;
    if (this.hasExited || pid === undefined) return this.exited;
    signalPid(pid, "SIGTERM");
    try {
      return await this.waitForExit(graceMs);
    } catch {
      signalPid(pid, "SIGKILL");
      return this.waitForExit(graceMs);
    }
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function spawnManaged(
  file: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ManagedProcess {
  const child = spawn(file, [...args], { stdio: ["pipe", "pipe", "pipe"], ...options });
  return new ManagedProcess(child, `\`${[file, ...args].join(" ")}\` (pid ${child.pid ?? "?"})`);
}
