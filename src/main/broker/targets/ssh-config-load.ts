// Reads ssh config files into a tree: each file's lines, with every Include already read, so that
// resolving a host is a plain walk. Includes are read whether or not their block will apply,
// since that depends on the host being resolved.
import { readFile } from "node:fs/promises";
import { glob } from "./glob.js";
import { parseConfigText, type ConfigDirective, type LineOrigin } from "./ssh-config-parse.js";
import { resolveIncludePath } from "./ssh-tokens.js";

export type ConfigLine =
  | { kind: "host"; patterns: string[]; origin: LineOrigin }
  | { kind: "match"; criteria: string[]; origin: LineOrigin }
  | { kind: "include"; files: ConfigFile[]; origin: LineOrigin }
  | { kind: "option"; directive: ConfigDirective };

export interface ConfigFile {
  path: string;
  lines: ConfigLine[];
}

export interface LoadContext {
  home: string;
  /** Where a relative Include points: ~/.ssh for the user's files, /etc/ssh for the system's. */
  includeBase: string;
  /** Problems worth telling the user; the load itself never fails on them. */
  warnings: string[];
}

/** ssh's READCONF_MAX_DEPTH: deeper nesting (such as a file including itself) is refused. */
const MAX_INCLUDE_DEPTH = 16;

/** The file and everything it includes; null when it does not exist (ssh ignores that). */
export async function loadConfigFile(path: string, context: LoadContext): Promise<ConfigFile | null> {
  return load(path, context, 0);
}

/** Text that is not in a file, such as what `gh codespace ssh --config` prints. */
export function configFromText(text: string, name: string, context: LoadContext): ConfigFile {
  const parsed = parseConfigText(text, name);
  context.warnings.push(...parsed.problems);
  return { path: name, lines: parsed.directives.map((directive) => plainLine(directive)) };
}

async function load(path: string, context: LoadContext, depth: number): Promise<ConfigFile | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      context.warnings.push(`cannot read ${path} (${code ?? String(error)}); its settings are not used`);
    }
    return null;
  }
  const parsed = parseConfigText(text, path);
  context.warnings.push(...parsed.problems);
  const lines: ConfigLine[] = [];
  for (const directive of parsed.directives) {
    if (directive.keyword !== "include") {
      lines.push(plainLine(directive));
      continue;
    }
    const origin = { file: directive.file, line: directive.line };
    if (depth + 1 > MAX_INCLUDE_DEPTH) {
      context.warnings.push(
        `${path} line ${directive.line}: Include nests more than ${MAX_INCLUDE_DEPTH} deep ` +
          `(does a file include itself?); ssh refuses this, fix the Include`,
      );
      continue;
    }
    const files: ConfigFile[] = [];
    for (const pattern of directive.args) {
      for (const match of await glob(resolveIncludePath(pattern, context.home, context.includeBase))) {
        const included = await load(match, context, depth + 1);
        if (included !== null) files.push(included);
      }
    }
    lines.push({ kind: "include", files, origin });
  }
  return { path, lines };
}

function plainLine(directive: ConfigDirective): ConfigLine {
  const origin = { file: directive.file, line: directive.line };
  if (directive.keyword === "host") return { kind: "host", patterns: directive.args, origin };
  if (directive.keyword === "match") return { kind: "match", criteria: directive.args, origin };
  return { kind: "option", directive };
}
