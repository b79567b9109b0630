// The line syntax of ssh_config(5), as OpenSSH's readconf.c reads it: a keyword, then its
// arguments after whitespace or one '=', split like argv_split(): double or single quotes group
// words, a backslash escapes a quote, a backslash or a space, and a '#' starting a word ends the
// line. ProxyCommand takes the rest of the line as it is, quotes and '#' included.

/** Where a line came from, for messages the user can act on. */
export interface LineOrigin {
  file: string;
  line: number;
}

export interface ConfigDirective extends LineOrigin {
  /** Lower-cased, as keywords are case-insensitive. */
  keyword: string;
  args: string[];
  /** Everything after the keyword and its separator, unsplit (for ProxyCommand). */
  rest: string;
}

export interface ParsedConfigText {
  directives: ConfigDirective[];
  /** Lines ssh would refuse; we skip them and say so. */
  problems: string[];
}

export function parseConfigText(text: string, file: string): ParsedConfigText {
  const directives: ConfigDirective[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.replace(/[ \t\r\n\f]+$/, "").replace(/^[ \t]+/, "");
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const keyword = /^[^ \t"=]+/.exec(trimmed)?.[0];
    if (keyword === undefined) {
      problems.push(`${file} line ${line}: a line must start with a keyword; ssh refuses this file`);
      return;
    }
    // At most one '=' may stand between the keyword and its value, with whitespace around it.
    const rest = trimmed.slice(keyword.length).replace(/^[ \t]*=?[ \t]*/, "");
    if (rest === "") {
      problems.push(`${file} line ${line}: ${keyword} has no value; ssh refuses this file`);
      return;
    }
    const args = splitArguments(rest);
    if (args === null) {
      problems.push(`${file} line ${line}: a quote is not closed; ssh refuses this file`);
      return;
    }
    directives.push({ keyword: keyword.toLowerCase(), args, rest, file, line });
  });
  return { directives, problems };
}

/** OpenSSH's argv_split(..., terminate_on_comment=1); null for an unterminated quote. */
export function splitArguments(text: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "#") break;
    let arg = "";
    let quote: string | null = null;
    for (; i < text.length; i++) {
      const ch = text[i] ?? "";
      const next = text[i + 1];
      if (
        ch === "\\" &&
        (next === "'" || next === '"' || next === "\\" || (quote === null && next === " "))
      ) {
        arg += next;
        i++;
      } else if (quote === null && (ch === " " || ch === "\t")) {
        break;
      } else if (quote === null && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== null && ch === quote) {
        quote = null;
      } else {
        arg += ch;
      }
    }
    if (quote !== null) return null;
    args.push(arg);
  }
  return args;
}
