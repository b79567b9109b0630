// Agent deployment: probe the remote, upload the agent once per version, say how to start it.
export { deployAgent, AGENT_FILE_NAME, type DeployAgentOptions, type DeployedAgent } from "./deploy-agent.js";
export {
  DeployFailedError,
  RemoteNotReadyError,
  SudoRefusedError,
  type SudoRefusal,
  type DeployProblem,
  type DeployProblemCode,
} from "./errors.js";
export { quoteShellArg, shellCommand } from "./shell-quote.js";
export { SudoPassword, type SudoPasswordPrompt } from "./sudo-password.js";
export {
  chooseEntrance,
  describeEntrance,
  isEntranceMode,
  ENTRANCE_MODES,
  type EntranceChoice,
  type EntranceKind,
  type EntranceMode,
} from "./entrance-choice.js";
