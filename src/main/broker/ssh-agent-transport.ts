/**
 * How a session reaches a real remote: (start the codespace,) SSH in, upload the agent if the
 * remote lacks this version, and run it; the exec channel becomes the link.
 */
import { userInfo } from "node:os";
import { RemoteNotReadyError, SudoRefusedError } from "./deploy/index.js";
import { launchAgent, type LaunchAgentOptions } from "./deploy/launch-agent.js";
import { sshShell } from "./deploy/ssh-shell.js";
import { agentTransport } from "./agent-transport.js";
import type { ConnectStep } from "../../shared/api.js";
import type { AgentTransport } from "./session.js";
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
  type CodespaceTarget,
  type SshTarget,
} from "./targets/index.js";

export interface SshAgentTransportOptions extends LaunchAgentOptions {
  target: SshTarget | CodespaceTarget;
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
}

/** Errors the user must fix end the session; network trouble is retried. */
export function sshAgentTransport(options: SshAgentTransportOptions) {
  return agentTransport(options, open, [
    AuthFailedError,
    HostKeyChangedError,
    HostKeyOtherTypeError,
    HostKeyUnknownError,
    RemoteNotReadyError,
    SudoRefusedError,
    TargetError,
  ]);
}

async function open(
  options: SshAgentTransportOptions,
  step: (step: ConnectStep) => void,
  exitReady?: Promise<void>,
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
    const shell = sshShell(connection, target.label);
    const { agent, stderr } = await launchAgent(
      shell,
      { label: target.label, sudoHost: target.host },
      { ...options, ...(exitReady && { exitReady }) },
      step,
    );
    return {
      stream: agent.stream,
      stderr,
      close: () => connection.close(),
      exited: agent.exited.then(() => undefined),
    };
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
