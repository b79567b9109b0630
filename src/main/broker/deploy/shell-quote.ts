// Quoting for the remote user's shell. SSH hands the command line to that shell as one string, so
// every path we put in it is quoted: single quotes work the same in sh, bash, zsh, fish and csh.

// No `=` (a first word with one is an assignment), no `~` (tilde expansion), no glob characters.
const SAFE = /^[A-Za-z0-9_@%+:,./-]+$/;

export function quoteShellArg(value: string): string {
  if (value.includes("\0")) throw new TypeError("a shell argument cannot contain a NUL byte");
  if (SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function shellCommand(args: readonly string[]): string {
  return args.map(quoteShellArg).join(" ");
}
