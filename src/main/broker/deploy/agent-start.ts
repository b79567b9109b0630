// Starts the deployed agent on any remote shell and hands back its link: as is when the user is
// root, else through sudo's handshake (root-handshake.ts), with sudo's password asked only when
// sudo wants one. What the agent then writes on stderr is sanitised here, where it enters.
import type { Readable } from "node:stream";
import { sanitisedLines } from "../remote-lines.js";
import type { DeployedAgent } from "./deploy-agent.js";
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

export async function startDeployedAgent(
  shell: RemoteShell,
  deployed: DeployedAgent,
  options: { sudoPassword?: SudoPassword; host: string },
): Promise<StartedAgent> {
  const password =
    deployed.sudo === "password" && options.sudoPassword
      ? await options.sudoPassword.get(deployed.user, options.host)
      : null;
  const agent = await shell.startAgent(deployed.command);
  if (deployed.sudo === "none") return { agent, stderr: agent.stderr.pipe(sanitisedLines()) };
  const stderr = await awaitRootStart(agent, {
    password,
    who: `${deployed.user}@${options.host}`,
    timeoutMs: ROOT_START_TIMEOUT_MS,
  }).catch((error: unknown) => {
    // A refused password is forgotten: the user is asked afresh next time, never looped.
    if (error instanceof SudoRefusedError) options.sudoPassword?.wipe();
    throw error;
  });
  return { agent, stderr };
}
