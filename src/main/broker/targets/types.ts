// What the user can connect to: a host reached over SSH, or a GitHub Codespace (which becomes an
// SSH host once `gh` has told us how to reach it).

/** A host reached over SSH, with the ssh_config(5) settings that decide how. */
export interface SshTarget {
  kind: "ssh";
  /** What the user knows it by: the Host alias, the URL as typed, or `codespace:NAME`. */
  label: string;
  /** The HostName to reach (the alias itself when the config names none). */
  host: string;
  port: number;
  /** null: none configured; like ssh, the caller then uses the local user name. */
  user: string | null;
  /** Expanded paths, in the order ssh would try them; empty when none is configured. */
  identityFiles: string[];
  /** ssh_config's ProxyJump as written ([user@]host[:port], comma-separated hops). */
  proxyJump: string | null;
  /** ssh_config's ProxyCommand; %n is expanded, %h %p %r and %% are left for use (ssh/transport.ts). */
  proxyCommand: string | null;
  hostKeyAlias: string | null;
  strictHostKeyChecking: "yes" | "no" | "accept-new" | "ask" | null;
  /** Expanded paths; empty when none is configured (ssh's defaults apply); `none` is kept as written. */
  userKnownHostsFiles: string[];
  /** GlobalKnownHostsFile, expanded; absent or empty: ssh's defaults (/etc/ssh/ssh_known_hosts…). */
  globalKnownHostsFiles?: string[];
  source: "url" | "ssh-config" | "codespace";
}

/** A codespace as `gh codespace list` reports it. */
export interface CodespaceTarget {
  kind: "codespace";
  /** The unique name `gh` takes with `-c`. */
  name: string;
  /** The human name; the codespace's name when GitHub has none. */
  displayName: string;
  /** owner/repo */
  repository: string;
  branch: string | null;
  /** Available, Shutdown, Starting, ShuttingDown, Rebuilding, ... as GitHub names them. */
  state: string;
  machine: string | null;
}

/**
 * A command on this computer whose stdin and stdout reach a POSIX shell on the remote
 * (`kubectl exec -i devpod -- sh`): run without a shell, with `argv` as sh would split `command`.
 */
export interface ExecTarget {
  kind: "exec";
  /** `exec:COMMAND` as typed: what connects to it, and its id in the window. */
  spec: string;
  /** What the user knows it by: the name it was saved under, else `spec`. */
  label: string;
  command: string;
  argv: string[];
}

export type Target = SshTarget | CodespaceTarget | ExecTarget;

/**
 * The name a session to `target` goes by in tables, the tray and the CLI's rows: short and the
 * same on every connect (the Host alias or URL as typed, the codespace's name as shown, the name
 * an exec: command was saved under).
 */
export function targetName(target: Target): string {
  return target.kind === "codespace" ? target.displayName : target.label;
}

/** Everything the user can pick from; a provider that failed is a warning, not a failure. */
export interface TargetListing {
  ssh: SshTarget[];
  codespaces: CodespaceTarget[];
  /** The `exec:` targets the user saved with a name. */
  exec: ExecTarget[];
  warnings: string[];
}
