/**
 * How the app builds a broker Session, in one place: where the exit side runs and how the agent
 * is reached are decided here and nowhere else, so a change to how sessions run is made in this
 * file alone. Mirrors cli/connect.ts: the NAT and DNS engines run in the supervised local helper
 * (one per app, started on the first connect, stopped when the app closes).
 */
import { join } from "node:path";
import type { Settings } from "../../shared/api.js";
import { localExit } from "../broker/helper/helper-exit.js";
import { HelperSupervisor } from "../broker/helper/supervisor.js";
import { Session, type SessionOptions } from "../broker/session.js";
import { sshAgentTransport } from "../broker/ssh-agent-transport.js";
import type { Target } from "../broker/targets/index.js";
import type { PromptBroker } from "./prompts.js";

export const LINK_MTU = 65520;

export interface SessionRecipe {
  openAgent: SessionOptions["openAgent"];
  /** The prefixes to advertise at the start; the route watch updates them later. */
  routes: string[];
  settings: Settings;
  subnetV4: string;
  subnetV6: string | null;
}

export class SessionFactory {
  private helper: HelperSupervisor | undefined;

  constructor(
    private readonly options: {
      /** Where cli.mjs, agent/ and helper-local.mjs are. */
      distDir: string;
      log(line: string): void;
    },
  ) {}

  create(recipe: SessionRecipe): Session {
    this.helper ??= new HelperSupervisor({
      helperPath: join(this.options.distDir, "helper-local.mjs"),
      elevation: "auto",
      log: this.options.log,
    });
    const helper = this.helper;
    return new Session({
      exitProvider: localExit(helper),
      openAgent: recipe.openAgent,
      exit: {
        mtu: LINK_MTU,
        subnetV4: recipe.subnetV4,
        subnetV6: recipe.subnetV6,
        routes: recipe.routes,
        allowLocal: recipe.settings.allowLocal,
        dns: recipe.settings.dns,
      },
    });
  }

  /** Stops the local helper; call after every session has ended. */
  async stop(): Promise<void> {
    await this.helper?.stop();
    this.helper = undefined;
  }
}

/** SSH (and codespace) targets: host keys and passphrases are asked through the window. */
export function remoteAgentOpener(
  target: Target,
  options: { distDir: string; prompts: PromptBroker; log(line: string): void },
): SessionOptions["openAgent"] {
  return sshAgentTransport({
    target,
    identityFiles: [],
    knownHostsFile: null,
    acceptNewHostKey: false,
    confirmNewHostKey: async (info) =>
      (await options.prompts.ask(
        "host-key",
        `The host key of ${info.host} is new: ${info.keyType} ${info.fingerprintSha256}. Trust it?`,
      )) === "yes",
    passphrase: (file) =>
      options.prompts.ask("passphrase", `The key ${file} is protected: type its passphrase.`),
    remoteNode: null,
    agentDir: join(options.distDir, "agent"),
    log: options.log,
  });
}
