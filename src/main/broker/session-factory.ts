/**
 * How main builds a Session, for both shells (the CLI's connect and the app): the NAT and DNS
 * engines run in one supervised local helper (DESIGN.md, "Processes and trust"), the agent is
 * reached over SSH with the agent files from the same dist folder, and the advertised prefixes
 * follow this computer's routes. What differs between the shells (how a host key or passphrase
 * is asked, where the settings come from, what is printed) stays with them.
 *
 * One helper per main process, shared by its sessions (the app's several, a CLI run's one): the
 * helper runs one exit per link already, so a second session costs no second process and, where
 * the helper must be elevated, no second password dialog — the privileged part stays one small
 * process per user-facing app, as the desktop shows one Backhaul with one tray card of sessions.
 * The price is blast radius: a helper that dies drops every session of that app at once (each
 * reconnects once the supervisor has started it again). Separate `backhaul connect` runs never
 * share one: each has its own control directory, token and helper, and ends it on its own
 * Ctrl+C, so one run's end never reaches another's sessions.
 */
import { join } from "node:path";
import { localExit } from "./helper/helper-exit.js";
import { HelperSupervisor } from "./helper/supervisor.js";
import { RouteWatch } from "./route-watch.js";
import { Session, type SessionOptions } from "./session.js";
import { execAgentTransport } from "./exec-agent-transport.js";
import { sshAgentTransport, type SshAgentTransportOptions } from "./ssh-agent-transport.js";
import type { Target } from "./targets/index.js";

/** The link MTU unless the user picks one: large, as the link is a reliable stream (DESIGN.md). */
export const DEFAULT_LINK_MTU = 65520;

export interface SessionFactoryOptions {
  /** Where cli.mjs, agent/ and helper-local.mjs are. */
  distDir: string;
  /** "never": the local helper is not elevated even where a feature would need it. */
  elevation: "auto" | "never";
  /** The local helper's lines. */
  log(line: string): void;
}

/** One session: how its agent is reached and what its exit side runs with. */
export interface SessionSpec {
  openAgent: SessionOptions["openAgent"];
  exit: SessionOptions["exit"];
}

/** How the agent is reached over SSH: everything but the target and the dist folder. */
export type SshAgentOptions = Omit<SshAgentTransportOptions, "target" | "agentDir">;

export class SessionFactory {
  /** One for every session this factory makes, started by the first connect. */
  private helper: HelperSupervisor | undefined;

  constructor(private readonly options: SessionFactoryOptions) {}

  create(spec: SessionSpec): Session {
    const { remoteRoutes = [], remoteDnsDomains = [] } = spec.exit;
    this.helper ??= new HelperSupervisor({
      helperPath: join(this.options.distDir, "helper-local.mjs"),
      elevation: this.options.elevation,
      // The first session decides: a later one that needs a TUN finds an unelevated helper, and
      // its link closes saying the TUN could not be made.
      tun: remoteRoutes.length > 0 || remoteDnsDomains.length > 0,
      log: this.options.log,
    });
    return new Session({ exitProvider: localExit(this.helper), openAgent: spec.openAgent, exit: spec.exit });
  }

  /**
   * Deploys and runs the agent from this dist folder: over SSH (and codespaces), or through an
   * `exec:` target's command, which uses only what both share (the Node.js path, sudo, the log).
   */
  agentOpener(target: Target, ssh: SshAgentOptions): SessionOptions["openAgent"] {
    const agentDir = join(this.options.distDir, "agent");
    if (target.kind === "exec")
      return execAgentTransport({
        target,
        agentDir,
        remoteNode: ssh.remoteNode,
        sudoPassword: ssh.sudoPassword,
        entrance: ssh.entrance,
        onEntrance: ssh.onEntrance,
        log: ssh.log,
      });
    return sshAgentTransport({ ...ssh, target, agentDir });
  }

  /** A shutdown is under way: a helper that exits now (the same Ctrl+C reached it) is not restarted. */
  holdRestarts(): void {
    this.helper?.holdRestarts();
  }

  /** Stops the local helper; call after every session has ended. */
  async stop(): Promise<void> {
    await this.helper?.stop();
    this.helper = undefined;
  }
}

/**
 * Starts watching this computer's routes; resolves with the watch and the prefixes to advertise
 * now. A failed read or a lost route monitor is logged, never thrown: the session goes on with
 * the prefixes it has. The caller listens for "change".
 */
export async function watchRoutes(options: {
  include: readonly string[];
  exclude: readonly string[];
  log(line: string): void;
}): Promise<{ watch: RouteWatch; routes: string[] }> {
  const watch = new RouteWatch({
    include: options.include,
    exclude: options.exclude,
    onMonitorLost: options.log,
  });
  // Unheard, an 'error' event would end the process mid-session.
  watch.on("error", (error) => options.log(`reading this computer's routes failed: ${error.message}`));
  const routes = await watch.start();
  return { watch, routes };
}
