// The glob(3) subset ssh's Include needs: '*', '?' and '[...]' within path components, matches
// in lexical order, and a leading '.' matched only by a pattern that spells it.
import { readdir, stat } from "node:fs/promises";
import { isAbsolute, parse, sep } from "node:path";

const MAGIC = /[*?[]/;

/** Existing paths matching `pattern` (absolute), sorted; none when nothing matches. */
export async function glob(pattern: string): Promise<string[]> {
  if (!isAbsolute(pattern)) throw new Error(`glob needs an absolute pattern, not ${pattern}`);
  const { root } = parse(pattern);
  const parts = pattern
    .slice(root.length)
    .split(/[\\/]+/)
    .filter(Boolean);
  let found = [root];
  for (const [index, part] of parts.entries()) {
    const last = index === parts.length - 1;
    const next: string[] = [];
    for (const dir of found) next.push(...(await step(dir, part, last)));
    found = next;
  }
  return found.sort();
}

async function step(dir: string, part: string, last: boolean): Promise<string[]> {
  const join = (name: string): string =>
    dir.endsWith(sep) || dir.endsWith("/") ? dir + name : dir + sep + name;
  if (!MAGIC.test(part)) {
    const path = join(part);
    return (await exists(path, !last)) ? [path] : [];
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const matcher = componentMatcher(part);
  const matches = names.filter((name) => (!name.startsWith(".") || part.startsWith(".")) && matcher(name));
  const kept: string[] = [];
  for (const name of matches.sort()) {
    if (last || (await exists(join(name), true))) kept.push(join(name));
  }
  return kept;
}

async function exists(path: string, mustBeDirectory: boolean): Promise<boolean> {
  try {
    const info = await stat(path);
    return !mustBeDirectory || info.isDirectory();
  } catch {
    return false;
  }
}

/** One path component's pattern as a RegExp, every literal character escaped. */
function componentMatcher(part: string): (name: string) => boolean {
  let source = "";
  for (let i = 0; i < part.length; i++) {
    const c = part[i] ?? "";
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const close = part.indexOf("]", i + 2);
      if (close < 0) {
        source += "\\[";
        continue;
      }
      let body = part.slice(i + 1, close);
      const negated = body.startsWith("!");
      if (negated) body = body.slice(1);
      source += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = close;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  const regex = new RegExp(`^${source}$`, "s");
  return (name) => regex.test(name);
}
