/**
 * Runs the helper as root through sudo-prompt (pkexec/kdesudo on Linux, the macOS authorization
 * dialog, UAC on Windows): the user sees the OS's own password prompt, never ours. sudo-prompt
 * reports only when the command ends, so that is how the supervisor learns it died.
 */
import sudo from "sudo-prompt";

export interface ElevatedRun {
  /** Resolves with the exit code (null when unknown) when the elevated helper ends. */
  exited: Promise<number | null>;
}

export function runElevated(command: string, args: string[], log: (line: string) => void): ElevatedRun {
  // sudo-prompt runs the line through a shell inside double quotes: refuse what would still expand.
  const unsafe = [command, ...args].find((part) => /[$`"\\]/.test(part));
  if (unsafe !== undefined) {
    log(`not elevating: the path ${JSON.stringify(unsafe)} has characters a shell would expand`);
    return { exited: Promise.resolve(1) };
  }
  // pkexec clears the environment: inside Electron, the variable that makes it a Node must be
  // part of the command itself.
  const prefix = process.versions.electron ? ["/usr/bin/env", "ELECTRON_RUN_AS_NODE=1"] : [];
  const line = [...prefix, command, ...args].map(shellQuote).join(" ");
  const exited = new Promise<number | null>((resolve) => {
    sudo.exec(line, { name: "Backhaul" }, (error, _stdout, stderr) => {
      const text = typeof stderr === "string" ? stderr : (stderr?.toString("utf8") ?? "");
      for (const entry of text.split("\n")) if (entry.trim()) log(entry.trim());
      if (error) log(`elevated helper: ${error.message}`);
      const code = (error as (Error & { code?: unknown }) | undefined)?.code;
      resolve(error ? (typeof code === "number" ? code : 1) : 0);
    });
  });
  return { exited };
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
