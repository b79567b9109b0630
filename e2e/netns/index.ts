// Network-namespace topology helpers for the e2e suites (see DESIGN.md, "Test topology").
export { NetnsLab, type NamespaceOptions, type VethOptions } from "./lab.js";
export { NetworkNamespace } from "./namespace.js";
export {
  netnsSkipReason,
  findOnPath,
  skipSaying,
  TOOL_PACKAGES,
  type NetnsRequirements,
} from "./preconditions.js";
export {
  ManagedProcess,
  runChecked,
  runCommand,
  describeResult,
  spawnManaged,
  type CommandResult,
  type ExitInfo,
  type RunOptions,
} from "./process.js";
export { TunHarness } from "./tun-harness-client.js";
export type { TunConfig } from "./tun-harness-protocol.js";
