// The command of an `exec:` target, split into words the way sh would split it, and then run
// without a shell (spawn's argv). Quoting is sh's: '…' keeps everything; "…" keeps everything but
// \\ \" \$ \` and backslash-newline; outside quotes a backslash keeps the next character. What a
// shell would expand or interpret (variables, command substitution, pipes, redirections, `;`,
// `&`) is refused rather than passed on literally: the user would expect the shell's meaning.
// Globs and `~` are passed as typed (kubectl and docker take no file names). A newline outside
// quotes separates words, as a space does: the target is one command.

export class CommandLineError extends Error {
  override readonly name = "CommandLineError";
}

const OPERATORS = new Set(["|", "&", ";", "<", ">", "(", ")"]);
const SPACE = new Set([" ", "\t", "\n"]);
/** What a backslash escapes inside double quotes (POSIX); before anything else it stays. */
const DOUBLE_QUOTE_ESCAPES = new Set(["\\", '"', "$", "`"]);

const noShell = (what: string): string =>
  `${what}: the command runs without a shell; quote it ('…') to pass it on as it is, or run \`sh -c '…'\``;

/** The words of `text`; a CommandLineError says what is wrong (an unbalanced quote, a `|`). */
export function parseCommandLine(text: string): string[] {
  if (text.includes("\0")) throw new CommandLineError("the command contains a NUL byte");
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const append = (part: string): void => {
    word = (word ?? "") + part;
  };
  while (i < text.length) {
    const c = text.charAt(i);
    if (SPACE.has(c)) {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new CommandLineError(`unbalanced single quote at character ${i + 1}`);
      append(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      i = readDoubleQuoted(text, i, append);
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new CommandLineError("the command ends with a lone backslash");
      // Backslash-newline joins lines, as in sh.
      if (text.charAt(i + 1) !== "\n") append(text.charAt(i + 1));
      i += 2;
    } else if (c === "$" || c === "`") {
      throw new CommandLineError(noShell(`\`${c}\` would be expanded by a shell`));
    } else if (OPERATORS.has(c)) {
      throw new CommandLineError(noShell(`\`${c}\` is a shell operator`));
    } else {
      append(c);
      i++;
    }
  }
  if (word !== null) words.push(word);
  if (words.length === 0) throw new CommandLineError("the command is empty");
  return words;
}

/** Reads "…" starting at `start` (the quote); returns the index after the closing quote. */
function readDoubleQuoted(text: string, start: number, append: (part: string) => void): number {
  let part = "";
  let i = start + 1;
  for (;;) {
    if (i >= text.length) throw new CommandLineError(`unbalanced double quote at character ${start + 1}`);
    const c = text.charAt(i);
    if (c === '"') break;
    if (c === "\\" && i + 1 < text.length) {
      const next = text.charAt(i + 1);
      if (DOUBLE_QUOTE_ESCAPES.has(next)) part += next;
      else if (next !== "\n") part += c + next;
      i += 2;
      continue;
    }
    if (c === "$" || c === "`")
      throw new CommandLineError(noShell(`\`${c}\` inside double quotes would be expanded by a shell`));
    part += c;
    i++;
  }
  append(part);
  return i + 1;
}
