// Deploy, then start: the two steps every transport runs once it has a remote shell (SSH's
// channels, an `exec:` command's stream), with the same options and the same connect steps.
import type { ConnectStep } from "../../../shared/api.js";
import { startDeployedAgent, type StartedAgent } from "./agent-start.js";
import { deployAgent } from "./deploy-agent.js";
import type { EntranceKind, EntranceMode } from "./entrance-choice.js";
import { buildDeployOptions } from "./local-build.js";
import type { RemoteShell } from "./remote-shell.js";
import type { SudoPassword } from "./sudo-password.js";

export interface LaunchAgentOptions {
  /** Folder with backhaul-agent.cjs and its addon (dist/agent). */
  agentDir: string;
  remoteNode: string | null;
  /** Asks for sudo's password when the remote's sudo wants one, and holds it for reconnects. */
  sudoPassword?: SudoPassword;
  /** Which entrance the agent runs; default auto (entrance-choice.ts). */
  entrance?: EntranceMode;
  /** Told which entrance the started agent runs (after any fallback), for the CLI's hint. */
  onEntrance?: (kind: EntranceKind) => void;
  /** For a shell that takes one agent start only (an `exec:` stream): see agent-start.ts. */
  freshShell?: () => Promise<RemoteShell>;
  /** Settles once the exit side can take the link: the agent starts only after it (session.ts). */
  exitReady?: Promise<void>;
  log: (line: string) => void;
}

/**
 * Puts this build's agent on the remote behind `shell` and starts it; `label` names the remote in
 * messages, `sudoHost` in sudo's password question.
 */
export async function launchAgent(
  shell: RemoteShell,
  names: { label: string; sudoHost: string },
  options: LaunchAgentOptions,
  step: (step: ConnectStep) => void,
): Promise<StartedAgent> {
  const entrance = options.entrance ?? "auto";
  const deployed = await deployAgent(
    shell,
    await buildDeployOptions(options.agentDir, {
      host: names.label,
      remoteNode: options.remoteNode,
      canAskSudoPassword: options.sudoPassword !== undefined,
      entrance,
      log: options.log,
    }),
  );
  if (deployed.uploaded) options.log(`uploaded the agent to ${deployed.remoteDir}`);
  await options.exitReady;
  step("agent");
  return startDeployedAgent(shell, deployed, {
    sudoPassword: options.sudoPassword,
    host: names.sudoHost,
    entrance,
    onEntrance: options.onEntrance,
    ...(options.freshShell && { freshShell: options.freshShell }),
    log: options.log,
  });
}
