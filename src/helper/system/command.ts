// Commands the agent and the local helper run (ip, resolvectl), through run-command.ts, and what their
// failures mean: what the command printed tells "already gone" from a real error.
import { runCommand } from "../engines/run-command.js";
import type { CommandRunner as TunCommandRunner } from "./tun/index.js";

export { CommandError } from "../engines/run-command.js";

/** Runs a program and resolves with its stdout; rejects with a CommandError. Injectable for tests. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

const COMMAND_TIMEOUT_MS = 10_000;

export const execFileRunner: CommandRunner = async (file, args) => {
  const options = { timeoutMs: COMMAND_TIMEOUT_MS, killSignal: "SIGKILL" as const, maxOutputBytes: 64 << 20 };
  return (await runCommand(file, args, options)).stdout;
};

/** LinuxInterface wants a runner without output; its failures stay our CommandErrors. */
export function tunRunner(run: CommandRunner): TunCommandRunner {
  return async (file, args) => {
    await run(file, args);
  };
}

/** The error's text, for matching what `ip` or `resolvectl` answered. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the command itself printed, when the error carries it (ours and LinuxInterface's do). */
function answer(error: unknown): string {
  const detail = (error as { detail?: unknown } | null)?.detail;
  return typeof detail === "string" ? detail : errorText(error);
}

const ALREADY_GONE = [
  "No such process", // ip route del: no such route
  "Cannot find device", // ip ... dev NAME: no such interface
  "does not exist", // ip link show dev NAME
  "address not found", // ip address del ("ipv4: Address not found", "ipv6: address not found")
  "Cannot assign requested address", // ip address del, older kernels
  "No such device", // resolvectl on a vanished link
  "Failed to resolve interface",
];

/**
 * `ip` and `resolvectl` saying that what we wanted to remove is not there (any more): a missing
 * route, address or device. Undoing such a thing is a success.
 */
export function isAlreadyGone(error: unknown): boolean {
  const text = answer(error).toLowerCase();
  return ALREADY_GONE.some((phrase) => text.includes(phrase.toLowerCase()));
}

/** `ip ... add` refusing because an identical entry exists: we changed nothing. */
export function isAlreadyExists(error: unknown): boolean {
  return answer(error).includes("File exists");
}

/** Whether an interface of that name exists (an `ip link show` that finds nothing says so). */
export async function linkExists(run: CommandRunner, name: string): Promise<boolean> {
  try {
    await run("ip", ["link", "show", "dev", name]);
    return true;
  } catch (error) {
    if (isAlreadyGone(error)) return false;
    throw error;
  }
}
