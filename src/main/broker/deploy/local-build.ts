// What this build deploys, from its dist/agent folder: the agent, its addon for each
// architecture the build made, and the Node.js runtimes to bring to a remote without one.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../../../shared/version.js";
import { AGENT_FILE_NAME, type DeployAgentOptions } from "./deploy-agent.js";
import { loadNodeRuntimes } from "./node-runtime.js";

/** The linux-arm64 addon, when the build made one (scripts/build.mjs). */
const ARM64_ADDON = "arm64/backhaul_native.node";

export async function buildDeployOptions(
  agentDir: string,
  options: Pick<DeployAgentOptions, "host" | "remoteNode" | "canAskSudoPassword" | "entrance" | "log">,
): Promise<DeployAgentOptions> {
  return {
    agentFile: join(agentDir, AGENT_FILE_NAME),
    addonFile: join(agentDir, "backhaul_native.node"),
    addonFileArm64: existsSync(join(agentDir, ARM64_ADDON)) ? join(agentDir, ARM64_ADDON) : null,
    version: VERSION,
    ...options,
    runtimes: await loadNodeRuntimes(agentDir),
  };
}
