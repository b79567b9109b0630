// Runs the OS's route commands through run-command.ts, with a timeout so that a hung PowerShell
// or netstat cannot stall the helper's start; a failure becomes a RouteTableError that says
// whether the command is missing or failed.
import { CommandError, runCommand } from "../../../helper/engines/run-command.js";
import { RouteTableError } from "../../../helper/engines/routes/errors.js";
import type { CommandRunner } from "../../../helper/engines/routes/types.js";

const COMMAND_TIMEOUT_MS = 15_000;

export const execFileRunner: CommandRunner = async (file, args) => {
  try {
    return (await runCommand(file, args, { timeoutMs: COMMAND_TIMEOUT_MS })).stdout;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    const code = error.reason === "not-found" ? "command-not-found" : "command-failed";
    throw new RouteTableError(code, error.message, { cause: error });
  }
};
