/**
 * The app's sessions: the broker's factory (the engines in the supervised local helper, started
 * on the first connect and stopped when the app closes), with host keys, passphrases and sudo's
 * password asked through the window. main.test.ts swaps this file for ../electron/fake-session-factory.ts.
 */
import type { EntranceKind, EntranceMode } from "../../shared/api.js";
import { SudoPassword } from "../broker/deploy/index.js";
import { SessionFactory, type SessionSpec } from "../broker/session-factory.js";
import type { Session, SessionOptions } from "../broker/session.js";
import type { Target } from "../broker/targets/index.js";
import type { PromptBroker } from "./prompts.js";

/** What the controller uses of AppSessionFactory (a test swaps in one with a fake agent). */
export type AppSessions = Pick<AppSessionFactory, "create" | "sudoPassword" | "remoteAgentOpener" | "stop">;

export class AppSessionFactory {
  private readonly sessions: SessionFactory;

  constructor(options: {
    /** Where cli.mjs, agent/ and helper-local.mjs are. */
    distDir: string;
    log(line: string): void;
  }) {
    this.sessions = new SessionFactory({ ...options, elevation: "auto" });
  }

  create(spec: SessionSpec): Session {
    return this.sessions.create(spec);
  }

  /** sudo's password for one run, asked in the window; the run wipes it when it ends. */
  sudoPassword(prompts: PromptBroker): SudoPassword {
    return new SudoPassword(async ({ user, host }) => {
      const answer = await prompts.ask("sudo-password", `sudo password for ${user}@${host}:`);
      // The window's answer arrives as a string, which cannot be wiped; the bytes sent on can.
      return answer === null ? null : Buffer.from(answer, "utf8");
    });
  }

  /** SSH, codespace and exec: targets, with the window's prompts and its entrance setting. */
  remoteAgentOpener(
    target: Target,
    options: {
      prompts: PromptBroker;
      sudoPassword: SudoPassword;
      entrance: EntranceMode;
      /** Told which entrance each started agent runs (after any fallback), for the session view. */
      onEntrance(kind: EntranceKind): void;
      log(line: string): void;
    },
  ): SessionOptions["openAgent"] {
    return this.sessions.agentOpener(target, {
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
      sudoPassword: options.sudoPassword,
      entrance: options.entrance,
      onEntrance: options.onEntrance,
      log: options.log,
    });
  }

  /** Stops the local helper; call after every session has ended. */
  stop(): Promise<void> {
    return this.sessions.stop();
  }
}
