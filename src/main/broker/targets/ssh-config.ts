// OpenSSH client configuration: which settings apply to a host, as ssh_config(5) says. Files are
// read in order (the user's, then the system's); within them, the first value obtained for an
// option wins, except IdentityFile, which accumulates. Host and Match blocks decide what applies;
// Match criteria other than `all`, `host` and `originalhost` are skipped with a warning rather
// than guessed. Only the options a connection needs are kept (see SshTarget).
import { homedir, hostname, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { configFromText, loadConfigFile, type ConfigFile, type LoadContext } from "./ssh-config-load.js";
import {
  applyOption,
  buildTarget,
  currentHostName,
  where,
  type Environment,
  type HostRequest,
  type Obtained,
} from "./ssh-config-options.js";
import type { LineOrigin } from "./ssh-config-parse.js";
import { isConcreteAlias, matchHostLine, matchHostnameList } from "./ssh-patterns.js";
import type { SshTarget } from "./types.js";

export type { HostRequest } from "./ssh-config-options.js";

export interface SshConfigOptions {
  /** Default: ~/.ssh/config. */
  userConfigPath?: string;
  /** Default: /etc/ssh/ssh_config (%PROGRAMDATA%\ssh\ssh_config on Windows); null to skip it. */
  systemConfigPath?: string | null;
  /** Default: os.homedir(). */
  home?: string;
  /** Default: os.userInfo().username; %u, and %r when no User is set. */
  localUser?: string;
  /** Default: os.hostname(); %l and %L. */
  localHostname?: string;
  /** Default: process.env; ${NAME} in paths. */
  env?: Readonly<Record<string, string | undefined>>;
}

export class SshConfig {
  private readonly warningSet = new Set<string>();

  private constructor(
    private readonly files: readonly ConfigFile[],
    private readonly environment: Environment,
    loadWarnings: readonly string[],
  ) {
    for (const warning of loadWarnings) this.warningSet.add(warning);
  }

  /** Reads the config files; missing files are empty, as for ssh. */
  static async load(options: SshConfigOptions = {}): Promise<SshConfig> {
    const environment = environmentOf(options);
    const userPath = options.userConfigPath ?? join(environment.home, ".ssh", "config");
    const systemPath =
      options.systemConfigPath === undefined ? defaultSystemConfig() : options.systemConfigPath;
    const warnings: string[] = [];
    const files: ConfigFile[] = [];
    const userContext: LoadContext = {
      home: environment.home,
      includeBase: join(environment.home, ".ssh"),
      warnings,
    };
    const userFile = await loadConfigFile(userPath, userContext);
    if (userFile !== null) files.push(userFile);
    if (systemPath !== null) {
      const systemContext: LoadContext = {
        home: environment.home,
        includeBase: dirname(systemPath),
        warnings,
      };
      const systemFile = await loadConfigFile(systemPath, systemContext);
      if (systemFile !== null) files.push(systemFile);
    }
    return new SshConfig(files, environment, warnings);
  }

  /** Config text that is not in a file, such as `gh codespace ssh --config`'s output. */
  static fromText(text: string, name: string, options: SshConfigOptions = {}): SshConfig {
    const environment = environmentOf(options);
    const warnings: string[] = [];
    const context: LoadContext = {
      home: environment.home,
      includeBase: join(environment.home, ".ssh"),
      warnings,
    };
    return new SshConfig([configFromText(text, name, context)], environment, warnings);
  }

  /** Lines we skipped, and blocks we could not evaluate, so far; for the user to read. */
  get warnings(): string[] {
    return [...this.warningSet];
  }

  /** The settings ssh would use to reach `alias`. Throws TargetError for a value ssh would refuse. */
  resolveHost(alias: string, request: HostRequest = {}): SshTarget {
    const obtained: Obtained = { identityFiles: [] };
    for (const file of this.files) this.walk(file, alias, { active: true }, false, obtained);
    return buildTarget(alias, obtained, request, this.environment, (warning) => this.warningSet.add(warning));
  }

  /** The Host patterns that name one host (no wildcards or negations), in file order. */
  hostAliases(): string[] {
    const aliases = new Set<string>();
    const collect = (file: ConfigFile): void => {
      for (const line of file.lines) {
        if (line.kind === "host")
          line.patterns.filter(isConcreteAlias).forEach((alias) => aliases.add(alias));
        if (line.kind === "include") line.files.forEach(collect);
      }
    };
    this.files.forEach(collect);
    return [...aliases];
  }

  /** Every alias of hostAliases() resolved; one ssh would refuse becomes a warning. */
  listHosts(): SshTarget[] {
    const targets: SshTarget[] = [];
    for (const alias of this.hostAliases()) {
      try {
        targets.push(this.resolveHost(alias));
      } catch (error) {
        this.warningSet.add(`${alias}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return targets;
  }

  /** One file's lines; included files start in, and leave behind, the including block's state. */
  private walk(
    file: ConfigFile,
    alias: string,
    state: { active: boolean },
    neverMatch: boolean,
    obtained: Obtained,
  ) {
    for (const line of file.lines) {
      switch (line.kind) {
        case "host":
          state.active = !neverMatch && matchHostLine(alias, line.patterns);
          break;
        case "match":
          state.active = !neverMatch && this.matches(line.criteria, line.origin, alias, obtained);
          break;
        case "include": {
          const outer = state.active;
          for (const included of line.files) {
            this.walk(included, alias, state, neverMatch || !outer, obtained);
            state.active = outer;
          }
          break;
        }
        case "option":
          if (state.active) applyOption(line.directive, obtained, (warning) => this.warningSet.add(warning));
          break;
      }
    }
  }

  /** A Match line, as far as we evaluate it; anything else skips the block with a warning. */
  private matches(
    criteria: readonly string[],
    origin: LineOrigin,
    alias: string,
    obtained: Obtained,
  ): boolean {
    const skip = (why: string): false => {
      this.warningSet.add(`${where(origin)}: ${why}; the settings under it are not used`);
      return false;
    };
    const shown = `"Match ${criteria.join(" ")}"`;
    if (criteria.length === 0) return skip(`Match needs a criterion such as all or host`);
    if (criteria.length === 1 && criteria[0]?.toLowerCase() === "all") return true;
    let result = true;
    for (let i = 0; i < criteria.length; i++) {
      const word = criteria[i] ?? "";
      const negated = word.startsWith("!");
      const name = (negated ? word.slice(1) : word).toLowerCase();
      if (name !== "host" && name !== "originalhost") {
        return skip(`Backhaul does not evaluate ${shown} (only all, host and originalhost)`);
      }
      const list = criteria[++i];
      if (list === undefined) return skip(`${shown} gives no pattern after ${name}`);
      // `host` is the name after HostName substitution so far; `originalhost` the name as typed.
      const subject = name === "host" ? currentHostName(alias, obtained) : alias;
      if (matchHostnameList(subject, list) === negated) result = false;
    }
    return result;
  }
}

function defaultSystemConfig(): string {
  if (process.platform === "win32")
    return join(process.env["PROGRAMDATA"] ?? "C:\\ProgramData", "ssh", "ssh_config");
  return "/etc/ssh/ssh_config";
}

function environmentOf(options: SshConfigOptions): Environment {
  return {
    home: options.home ?? homedir(),
    localUser: options.localUser ?? userInfo().username,
    localHostname: options.localHostname ?? hostname(),
    env: options.env ?? process.env,
  };
}
