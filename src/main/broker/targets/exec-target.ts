// `exec:COMMAND` targets, typed or saved with a name (the window's settings).
import { CommandLineError, parseCommandLine } from "../../../shared/command-line.js";
import type { SavedExecTarget } from "../../../shared/api.js";
import { TargetError } from "./errors.js";
import type { ExecTarget } from "./types.js";

export const EXEC_PREFIX = "exec:";
export type { SavedExecTarget };

export function isExecSpec(spec: string): boolean {
  return spec.trim().toLowerCase().startsWith(EXEC_PREFIX);
}

/** The target `exec:COMMAND` names; a TargetError says what is wrong with the command. */
export function execTarget(spec: string, name?: string): ExecTarget {
  const command = spec.trim().slice(EXEC_PREFIX.length).trim();
  try {
    const argv = parseCommandLine(command);
    return {
      kind: "exec",
      spec: `${EXEC_PREFIX}${command}`,
      label: name ?? `${EXEC_PREFIX}${command}`,
      command,
      argv,
    };
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    throw new TargetError(
      "bad-spec",
      command === ""
        ? "type exec:COMMAND, a command whose input and output reach a shell on the remote, e.g. exec:docker exec -i devbox sh"
        : `exec:${command}: ${error.message}`,
      { cause: error },
    );
  }
}

/** The saved targets that parse; one that does not is a warning. */
export function savedExecTargets(
  saved: readonly SavedExecTarget[],
  onWarning?: (warning: string) => void,
): ExecTarget[] {
  return saved.flatMap((entry) => {
    try {
      return [execTarget(`${EXEC_PREFIX}${entry.command}`, entry.name)];
    } catch (error) {
      onWarning?.(`saved target ${entry.name}: ${(error as Error).message}`);
      return [];
    }
  });
}
