// The remote agent's system changes (TUN, addresses, routes, resolver), journaled before they
// are made and always undone: on exit, link loss, SIGTERM/SIGINT/SIGHUP, and after a crash or
// SIGKILL by the next agent's recoverFromPreviousRun().
//
// Not covered: exception routes that would let a prefix holding the SSH peer be routed anyway
// (such a prefix is skipped), NetworkManager's D-Bus API and resolvconf(8) (their files are
// rewritten in place, with a warning). Split DNS over a plain resolv.conf runs a forwarder in the
// agent (dns/split-forwarder.ts): the file names it, and it lives as long as the agent does.
export {
  Journal,
  DEFAULT_JOURNAL_PATH,
  describeUndoReport,
  type JournalOptions,
  type RecoveryReport,
  type UndoAction,
  type UndoOutcome,
  type UndoReport,
} from "../system/journal.js";
export { describeEntry, type JournalEntry, type UndoEntry, type UndoKind } from "../system/undo-entry.js";
export {
  AgentStillRunningError,
  DnsUnsupportedError,
  JournalError,
  NothingChangedError,
} from "../system/errors.js";
export { CommandError, execFileRunner, type CommandRunner } from "../system/command.js";
export { currentIdentity, isRunning, type ProcessIdentity, type ProcFs } from "../system/process-identity.js";
export { systemUndo, type SystemUndoOptions } from "../system/system-undo.js";
export {
  planRoutes,
  readRemoteRouting,
  parseRouteTable,
  parsePeerRoute,
  type PlannedRoute,
  type RemoteNetwork,
  type RemoteRouting,
  type RoutePlan,
  type SkippedPrefix,
  type SkipReason,
} from "./routes.js";
export { RouteSync, type RouteSyncOptions, type RouteSyncResult } from "./route-sync.js";
export { undoOnShutdown, type Shutdown, type ShutdownOptions } from "./shutdown.js";
export type { DnsConfigurator, DnsConfiguratorKind, DnsSettings } from "../system/dns/configurator.js";
export {
  ResolvConfConfigurator,
  renderResolvConf,
  RESOLV_CONF_PATH,
  type BeforeWrite,
} from "../system/dns/resolv-conf.js";
export { ResolvedConfigurator } from "../system/dns/resolved.js";
export { SplitForwarder, type SplitForwarderOptions } from "../system/dns/split-forwarder.js";
export { detectDnsConfigurator, type DetectOptions, type DnsDetection } from "../system/dns/detect.js";
export { openJournaledTun, type JournaledTunOptions } from "../system/tun-setup.js";
