/**
 * How a session reaches a real remote: (start the codespace,) SSH in, upload the agent if the
 * remote lacks this version, and run it; the exec channel becomes the link.
 */
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { sanitisedLines } from "./remote-lines.js";
import { VERSION } from "../../shared/version.js";
import {
  deployAgent,
  describeEntrance,
  RemoteNotReadyError,
  SudoRefusedError,
  type DeployedAgent,
  type EntranceKind,
  type EntranceMode,
  type SudoPassword,
} from "./deploy/index.js";
import { loadNodeRuntimes } from "./deploy/node-runtime.js";
import { awaitRootStart } from "./deploy/root-handshake.js";
import type { ConnectStep } from "../../shared/api.js";
import type { AgentTransport } from "./session.js";
import { FatalSessionError } from "./session.js";
import { connectSsh, type HostKeyPolicy, type PassphrasePrompt } from "./ssh/index.js";
import {
  AuthFailedError,
  HostKeyChangedError,
  HostKeyOtherTypeError,
  HostKeyUnknownError,
} from "./ssh/errors.js";
import {
  codespaceSshTarget,
  ensureCodespaceKey,
  startCodespace,
  TargetError,
  type SshTarget,
  type Target,
} from "./targets/index.js";

export interface SshAgentTransportOptions {
  target: Target;
  /** -i FILE: used instead of the target's identity files. */
  identityFiles: readonly string[];
  /** --known-hosts FILE. */
  knownHostsFile: string | null;
  acceptNewHostKey: boolean;
  confirmNewHostKey?: (info: {
    host: string;
    keyType: string;
    fingerprintSha256: string;
  }) => Promise<boolean>;
  passphrase?: PassphrasePrompt;
  remoteNode: string | null;
  /** Which entrance the agent runs; default auto (entrance-choice.ts). */
  entrance?: EntranceMode;
  /** Told which entrance the started agent runs (after any fallback), for the CLI's hint. */
  onEntrance?: (kind: EntranceKind) => void;
  /** Asks for sudo's password when the remote's sudo wants one, and holds it for reconnects. */
  sudoPassword?: SudoPassword;
  /** Folder with backhaul-agent.cjs and its addon (dist/agent). */
  agentDir: string;
  log: (line: string) => void;
}

/** The linux-arm64 addon, when the build made one (scripts/build.mjs). */
const ARM64_ADDON = "arm64/backhaul_native.node";

/** sudo's verdict (a wrong password takes it about 2 s) and the script's first line, well within. */
const ROOT_START_TIMEOUT_MS = 12_000;

export function sshAgentTransport(options: SshAgentTransportOptions) {
  return async (step: (step: ConnectStep) => void): Promise<AgentTransport> => {
    try {
      return await open(options, step);
    } catch (error) {
      throw asSessionError(error);
    }
  };
}

async function open(
  options: SshAgentTransportOptions,
  step: (step: ConnectStep) => void,
): Promise<AgentTransport> {
  let target: SshTarget;
  if (options.target.kind === "codespace") {
    const codespace = options.target;
    if (codespace.state !== "Available") {
      options.log(`starting codespace ${codespace.name} (${codespace.state}); this can take a minute`);
      await startCodespace(codespace.name, (progress) => options.log(`codespace: ${progress.message}`));
    }
    target = await codespaceSshTarget(codespace.name);
    const key = target.identityFiles[0];
    if (key && (await ensureCodespaceKey(key))) options.log(`created the Codespaces key ${key}`);
  } else {
    target = options.target;
  }

  step("ssh");
  const connection = await connectSsh({
    host: target.host,
    port: target.port,
    username: target.user ?? userInfo().username,
    identityFiles:
      options.identityFiles.length > 0
        ? options.identityFiles
        : target.identityFiles.length > 0
          ? target.identityFiles
          : undefined,
    proxyCommand: target.proxyCommand,
    proxyJump: target.proxyJump,
    knownHostsFiles: options.knownHostsFile
      ? [options.knownHostsFile]
      : target.userKnownHostsFiles.length > 0
        ? target.userKnownHostsFiles
        : undefined,
    globalKnownHostsFiles:
      target.globalKnownHostsFiles && target.globalKnownHostsFiles.length > 0
        ? target.globalKnownHostsFiles
        : undefined,
    hostKeyAlias: target.hostKeyAlias,
    hostKeyPolicy: hostKeyPolicy(target, options.acceptNewHostKey),
    confirmNewHostKey: options.confirmNewHostKey,
    passphrase: options.passphrase,
    log: options.log,
  });
  try {
    step("upload");
    const deployed = await deployAgent(connection, {
      agentFile: join(options.agentDir, "backhaul-agent.cjs"),
      addonFile: join(options.agentDir, "backhaul_native.node"),
      addonFileArm64: existsSync(join(options.agentDir, ARM64_ADDON))
        ? join(options.agentDir, ARM64_ADDON)
        : null,
      version: VERSION,
      remoteNode: options.remoteNode,
      host: target.label,
      canAskSudoPassword: options.sudoPassword !== undefined,
      entrance: options.entrance ?? "auto",
      runtimes: await loadNodeRuntimes(options.agentDir),
      log: options.log,
    });
    if (deployed.uploaded) options.log(`uploaded the agent to ${deployed.remoteDir}`);
    step("agent");
    options.log(describeEntrance(deployed.entrance));
    const start = async (command: string, sudo: DeployedAgent["sudo"], password: Buffer | null) => {
      // The user's shell expands SSH_CONNECTION before sudo resets the environment.
      const channel = await connection.exec(`${command} --ssh-peer "\${SSH_CONNECTION%% *}"`);
      const exited = new Promise<void>((resolve) => {
        channel.once("close", () => resolve());
        connection.once("close", () => resolve());
      });
      // The agent's log lines are the remote's words: sanitised here, where they enter this computer.
      const stderr =
        sudo === "none"
          ? channel.stderr.pipe(sanitisedLines())
          : await awaitRootStart(channel, {
              password,
              who: `${deployed.user}@${target.host}`,
              timeoutMs: ROOT_START_TIMEOUT_MS,
            });
      return { stream: channel, stderr, close: () => connection.close(), exited };
    };
    try {
      const password =
        deployed.sudo === "password" && options.sudoPassword
          ? await options.sudoPassword.get(deployed.user, target.host)
          : null;
      const transport = await start(deployed.command, deployed.sudo, password);
      options.onEntrance?.(deployed.entrance.kind);
      return transport;
    } catch (error) {
      if (!(error instanceof SudoRefusedError)) throw error;
      // A refused password is forgotten: the user is asked afresh next time, never looped.
      options.sudoPassword?.wipe();
      // In auto, no password to be had or a user sudo refuses is no dead end; a wrong one is said.
      if ((options.entrance ?? "auto") !== "auto" || error.why === "wrong-password") throw error;
      options.log(`proxy entrance: ${error.message}`);
      const transport = await start(deployed.proxyCommand, "none", null);
      options.onEntrance?.("proxy");
      return transport;
    }
  } catch (error) {
    connection.close();
    throw error;
  }
}

/** Codespaces' relay is authenticated by gh itself; otherwise the user's config and flags decide. */
function hostKeyPolicy(target: SshTarget, acceptNew: boolean): HostKeyPolicy {
  if (target.source === "codespace") return "off";
  if (acceptNew || target.strictHostKeyChecking === "accept-new") return "accept-new";
  if (target.strictHostKeyChecking === "no") return "accept-new"; // never "off": a changed key still stops us
  return "strict";
}

/** Errors the user must fix end the session; network trouble is retried. */
function asSessionError(error: unknown): unknown {
  if (
    error instanceof AuthFailedError ||
    error instanceof HostKeyChangedError ||
    error instanceof HostKeyOtherTypeError ||
    error instanceof HostKeyUnknownError ||
    error instanceof RemoteNotReadyError ||
    error instanceof SudoRefusedError ||
    error instanceof TargetError
  ) {
    return new FatalSessionError(error.message, { cause: error });
  }
  return error;
}
