// Runs the OS's route commands: execFile, never a shell, with a timeout so that a hung
// PowerShell or netstat cannot stall the helper's start.
import { execFile } from "node:child_process";
import { RouteTableError } from "./errors.js";
import type { CommandRunner } from "./types.js";

const COMMAND_TIMEOUT_MS = 15_000;
// A router's full table can be large; a laptop's is a few kilobytes.
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

function describeCommand(file: string, args: readonly string[]): string {
  return `\`${[file, ...args].join(" ")}\``;
}

export const execFileRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    const options = { timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true };
    execFile(file, [...args], options, (error, stdout, stderr) => {
      if (!error) {
        resolve(stdout);
        return;
      }
      const command = describeCommand(file, args);
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(
          new RouteTableError("command-not-found", `${command} failed: ${file} was not found`, {
            cause: error,
          }),
        );
        return;
      }
      const detail = error.killed
        ? `timed out after ${COMMAND_TIMEOUT_MS} ms`
        : stderr.trim() || stdout.trim() || error.message;
      reject(new RouteTableError("command-failed", `${command} failed: ${detail}`, { cause: error }));
    });
  });
