// The options of ssh_config(5) that a connection needs: collected first-value-wins while the
// config is walked (IdentityFile accumulates), then expanded into an SshTarget.
import { TargetError } from "./errors.js";
import type { ConfigDirective, LineOrigin } from "./ssh-config-parse.js";
import { ExpansionError, expandPath, expandPercent } from "./ssh-tokens.js";
import type { SshTarget } from "./types.js";

/** Values given with the target itself (ssh's command line): they win over the config's. */
export interface HostRequest {
  user?: string | null;
  port?: number | null;
  /** Default: the alias. */
  label?: string;
  /** Default: "ssh-config". */
  source?: SshTarget["source"];
}

/** Whose config it is: for ~, %-tokens and ${NAME}. */
export interface Environment {
  home: string;
  localUser: string;
  localHostname: string;
  env: Readonly<Record<string, string | undefined>>;
}

interface Setting<T> {
  value: T;
  origin: LineOrigin;
}

/** What the walk over the files obtained for one host: the first value of each option. */
export interface Obtained {
  hostName?: Setting<string>;
  user?: Setting<string>;
  port?: Setting<number>;
  identityFiles: Setting<string>[];
  /** ProxyJump and ProxyCommand compete: whichever comes first wins, `none` included. */
  proxy?: Setting<{ kind: "jump" | "command"; text: string }>;
  hostKeyAlias?: Setting<string>;
  strictHostKeyChecking?: Setting<NonNullable<SshTarget["strictHostKeyChecking"]>>;
  userKnownHostsFiles?: Setting<string[]>;
  globalKnownHostsFiles?: Setting<string[]>;
}

type Warn = (warning: string) => void;

/** Records `directive` unless an earlier line already set its option. */
export function applyOption(directive: ConfigDirective, obtained: Obtained, warn: Warn): void {
  const origin: LineOrigin = { file: directive.file, line: directive.line };
  const first = directive.args[0] ?? "";
  switch (directive.keyword) {
    case "hostname":
      obtained.hostName ??= { value: first, origin };
      break;
    case "user":
      obtained.user ??= { value: first, origin };
      break;
    case "port":
      obtained.port ??= { value: parsePort(first, origin), origin };
      break;
    case "identityfile":
      obtained.identityFiles.push({ value: first, origin });
      break;
    case "proxyjump":
      obtained.proxy ??= { value: { kind: "jump", text: first }, origin };
      break;
    case "proxycommand":
      // The rest of the line as written: it is a shell command, quotes and all.
      obtained.proxy ??= { value: { kind: "command", text: directive.rest }, origin };
      break;
    case "hostkeyalias":
      obtained.hostKeyAlias ??= { value: first, origin };
      break;
    case "stricthostkeychecking":
      if (obtained.strictHostKeyChecking === undefined) {
        const value = strictValue(first);
        if (value === null) {
          warn(
            `${where(origin)}: StrictHostKeyChecking "${first}" is not yes, no, accept-new or ask; ignored`,
          );
        } else {
          obtained.strictHostKeyChecking = { value, origin };
        }
      }
      break;
    case "userknownhostsfile":
      obtained.userKnownHostsFiles ??= { value: directive.args, origin };
      break;
    case "globalknownhostsfile":
      obtained.globalKnownHostsFiles ??= { value: directive.args, origin };
      break;
  }
}

/** The HostName obtained so far with %h expanded, else the alias: what `Match host` compares. */
export function currentHostName(alias: string, obtained: Obtained): string {
  if (obtained.hostName === undefined) return alias;
  try {
    return expandPercent(obtained.hostName.value, { h: alias });
  } catch {
    return obtained.hostName.value;
  }
}

/** The target, its paths expanded as ssh.c does once the config is read. */
export function buildTarget(
  alias: string,
  obtained: Obtained,
  request: HostRequest,
  environment: Environment,
  warn: Warn,
): SshTarget {
  const { home, localUser, localHostname, env } = environment;
  let host = alias;
  if (obtained.hostName !== undefined) {
    try {
      host = expandPercent(obtained.hostName.value, { h: alias });
    } catch (error) {
      throw new TargetError("ssh-config", `${where(obtained.hostName.origin)}: HostName ${reason(error)}`);
    }
  }
  const port = request.port ?? obtained.port?.value ?? 22;
  const user = request.user ?? obtained.user?.value ?? null;
  const tokens: Record<string, string> = {
    d: home,
    u: localUser,
    h: host,
    r: user ?? localUser,
    p: String(port),
    n: alias,
    l: localHostname,
    L: localHostname.split(".")[0] ?? localHostname,
  };
  if (typeof process.getuid === "function") tokens["i"] = String(process.getuid());
  const expand = (value: string, origin: LineOrigin, option: string): string[] => {
    try {
      return [expandPath(value, home, tokens, env)];
    } catch (error) {
      warn(`${where(origin)}: ${option} ${reason(error)}; that file is not used`);
      return [];
    }
  };
  const identityFiles = obtained.identityFiles.flatMap(({ value, origin }) =>
    expand(value, origin, "IdentityFile"),
  );
  const knownHosts = obtained.userKnownHostsFiles;
  const globalKnownHosts = obtained.globalKnownHostsFiles;
  const proxy = obtained.proxy?.value;
  const proxyText = proxy === undefined || proxy.text.toLowerCase() === "none" ? null : proxy.text;
  return {
    kind: "ssh",
    label: request.label ?? alias,
    host,
    port,
    user,
    // ssh skips an IdentityFile it already has.
    identityFiles: [...new Set(identityFiles)],
    proxyJump: proxy?.kind === "jump" ? proxyText : null,
    // %n is the alias, known only here; %h %p %r and %% are expanded at use (ssh/transport.ts).
    proxyCommand: proxy?.kind === "command" && proxyText !== null ? expandAlias(proxyText, alias) : null,
    hostKeyAlias: obtained.hostKeyAlias?.value ?? null,
    strictHostKeyChecking: obtained.strictHostKeyChecking?.value ?? null,
    userKnownHostsFiles:
      knownHosts === undefined
        ? []
        : knownHosts.value.flatMap((value) => expand(value, knownHosts.origin, "UserKnownHostsFile")),
    ...(globalKnownHosts && {
      globalKnownHostsFiles: globalKnownHosts.value.flatMap((value) =>
        expand(value, globalKnownHosts.origin, "GlobalKnownHostsFile"),
      ),
    }),
    source: request.source ?? "ssh-config",
  };
}

export function where(origin: LineOrigin): string {
  return `${origin.file} line ${origin.line}`;
}

/** %n only, keeping every other %-sequence (%% included) for expansion at use. */
function expandAlias(text: string, alias: string): string {
  return text.replace(/%(.?)/gs, (match, key: string) => (key === "n" ? alias.replace(/%/g, "%%") : match));
}

function parsePort(text: string, origin: LineOrigin): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (port >= 1 && port <= 65535) return port;
  throw new TargetError(
    "ssh-config",
    `${where(origin)}: Port "${text}" is not a number from 1 to 65535; fix that line (ssh refuses it too)`,
  );
}

function strictValue(text: string): SshTarget["strictHostKeyChecking"] {
  switch (text.toLowerCase()) {
    case "yes":
    case "true":
      return "yes";
    case "no":
    case "off":
    case "false":
      return "no";
    case "accept-new":
      return "accept-new";
    case "ask":
      return "ask";
    default:
      return null;
  }
}

function reason(error: unknown): string {
  if (error instanceof ExpansionError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
