// Starts the deployed agent on any remote shell and hands back its link: as is when the user is
// root, else through sudo's handshake (root-handshake.ts), with sudo's password asked only when
// sudo wants one. In `auto`, a sudo that cannot be had (no password to ask for, the dialog
// declined, a user sudo refuses) is no dead end: the agent starts with the proxy entrance instead,
// as the user; a mistyped password is said, never looped. What the agent then writes on stderr is
// sanitised here, where it enters. When the refused start has used up the shell (an `exec:`
// stream's one shell ran sudo, which has exited), the proxy entrance starts on a fresh one: the
// transport runs its command again (`freshShell`); SSH opens another channel on the same shell.
import type { Readable } from "node:stream";
import { sanitisedLines } from "../remote-lines.js";
import type { DeployedAgent } from "./deploy-agent.js";
import { describeEntrance, type EntranceKind, type EntranceMode } from "./entrance-choice.js";
import { SudoRefusedError } from "./errors.js";
import type { AgentProcess, RemoteShell } from "./remote-shell.js";
import { awaitRootStart } from "./root-handshake.js";
import type { SudoPassword } from "./sudo-password.js";

/** sudo's verdict (a wrong password takes it about 2 s) and the script's first line, well within. */
const ROOT_START_TIMEOUT_MS = 12_000;

export interface StartedAgent {
  agent: AgentProcess;
  /** The agent's log, one sanitised line at a time. */
  stderr: Readable;
}

export interface StartAgentOptions {
  sudoPassword?: SudoPassword;
  host: string;
  /** What the user asked for; only `auto` falls back to the proxy entrance. Default auto. */
  entrance?: EntranceMode;
  /** Told which entrance the started agent runs (after any fallback), for the CLI's hint. */
  onEntrance?: (kind: EntranceKind) => void;
  /**
   * A new shell on the same remote, for the proxy entrance's start after a refused sudo ended
   * `shell` (which takes one agent start only: an `exec:` stream). Absent: `shell` is used again.
   */
  freshShell?: () => Promise<RemoteShell>;
  log: (line: string) => void;
}

export async function startDeployedAgent(
  shell: RemoteShell,
  deployed: DeployedAgent,
  options: StartAgentOptions,
): Promise<StartedAgent> {
  options.log(describeEntrance(deployed.entrance));
  let shellUsed = false;
  try {
    const started = await startAs(shell, deployed.command, deployed, options, () => (shellUsed = true));
    options.onEntrance?.(deployed.entrance.kind);
    return started;
  } catch (error) {
    if (!(error instanceof SudoRefusedError)) throw error;
    // A refused password is forgotten: the user is asked afresh next time, never looped.
    options.sudoPassword?.wipe();
    if ((options.entrance ?? "auto") !== "auto" || error.why === "wrong-password") throw error;
    options.log(`proxy entrance: ${error.message}`);
    // A password that could not be had is known before the start: then the shell is still unused.
    const proxyShell = shellUsed && options.freshShell ? await options.freshShell() : shell;
    const started = await startAs(proxyShell, deployed.proxyCommand, { ...deployed, sudo: "none" }, options);
    options.onEntrance?.("proxy");
    return started;
  }
}

async function startAs(
  shell: RemoteShell,
  command: string,
  deployed: Pick<DeployedAgent, "sudo" | "user">,
  options: StartAgentOptions,
  started: () => void = () => undefined,
): Promise<StartedAgent> {
  const password =
    deployed.sudo === "password" && options.sudoPassword
      ? await options.sudoPassword.get(deployed.user, options.host)
      : null;
  const agent = await shell.startAgent(command);
  started();
  if (deployed.sudo === "none") return { agent, stderr: agent.stderr.pipe(sanitisedLines()) };
  const stderr = await awaitRootStart(agent, {
    password,
    who: `${deployed.user}@${options.host}`,
    timeoutMs: ROOT_START_TIMEOUT_MS,
  });
  return { agent, stderr };
}
