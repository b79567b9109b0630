// ssh_config(5) TOKENS and ENVIRONMENT VARIABLES: `~` for the home directory, `%x` tokens and
// `${NAME}` variables, expanded the way ssh does for paths such as IdentityFile.
import { isAbsolute, join, resolve } from "node:path";

/** A token or variable ssh would expand but we cannot; the message names it. */
export class ExpansionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExpansionError";
  }
}

/** `~` and `~/...` become the home directory; `~user` is left alone (we cannot look it up). */
export function expandTilde(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/") || path.startsWith("~\\")) return join(home, path.slice(2));
  return path;
}

/** `%%` and the given `%x` tokens; any other token is an ExpansionError, as in ssh. */
export function expandPercent(text: string, tokens: Readonly<Record<string, string>>): string {
  return text.replace(/%(.?)/gs, (_match, key: string) => {
    if (key === "%") return "%";
    const value = tokens[key];
    if (value === undefined) {
      throw new ExpansionError(
        key === "" ? "ends in a lone '%'" : `uses %${key}, which Backhaul cannot expand`,
      );
    }
    return value;
  });
}

/** `${NAME}` from the environment; an unset variable is an ExpansionError, as in ssh. */
export function expandVariables(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    const value = env[name];
    if (value === undefined) throw new ExpansionError(`uses \${${name}}, which is not set`);
    return value;
  });
}

/** A path option: `~` first, then variables and tokens, as ssh.c does for IdentityFile. */
export function expandPath(
  path: string,
  home: string,
  tokens: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return expandPercent(expandVariables(expandTilde(path, home), env), tokens);
}

/** A relative Include is relative to ~/.ssh (user config) or the system config's directory. */
export function resolveIncludePath(pattern: string, home: string, baseDir: string): string {
  const expanded = expandTilde(pattern, home);
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}
