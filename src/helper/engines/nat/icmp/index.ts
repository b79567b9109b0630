// ICMP echo for the NAT engine: the one place that picks an implementation per OS.
//   Linux:           ICMP sockets through the addon (datagram if ping_group_range allows, else raw);
//                    the OS ping command if neither can be opened (logged once, with the reason).
//   macOS, Windows:  the OS ping command (the local helper has no native code there).
import type { IcmpForwarder } from "../icmp-forwarder.js";
import type { IcmpForwarderContext } from "./echo-flows.js";
import { probeEchoSocket, type EchoSocketMode } from "./echo-socket.js";
import { LinuxIcmpForwarder, type LinuxIcmpOptions } from "./linux-forwarder.js";
import { PingCommandForwarder, type PingCommandOptions } from "./ping-command.js";

export { DEFAULT_ECHO_FLOW_LIMITS, type EchoFlowLimits, type IcmpForwarderContext } from "./echo-flows.js";
export { openEchoSocket, probeEchoSocket, type EchoSocket, type EchoSocketMode } from "./echo-socket.js";
export {
  DEFAULT_LINUX_ICMP_LIMITS,
  LinuxIcmpForwarder,
  type LinuxIcmpLimits,
  type LinuxIcmpOptions,
} from "./linux-forwarder.js";
export { parsePingReply, type PingReply } from "./ping-output.js";
export { PingCommandForwarder, pingCommand, runPing, type PingCommandOptions } from "./ping-command.js";

export interface CreateIcmpOptions {
  platform?: NodeJS.Platform;
  log?: Log;
  /** Whether ICMP sockets work here; the addon's probe by default (tests replace it). */
  probe?: () => EchoSocketMode;
  linux?: LinuxIcmpOptions;
  pingCommand?: PingCommandOptions;
}

type Log = (message: string) => void;
const defaultLog: Log = (message) => console.warn(message);
/** Loggers already told why ICMP sockets are not used: every reconnect makes a new engine. */
const toldFallback = new WeakSet<Log>();

/** The forwarder for this computer; fits NatEngineOptions.icmp. */
export function createIcmpForwarder(
  context: IcmpForwarderContext,
  options: CreateIcmpOptions = {},
): IcmpForwarder {
  const platform = options.platform ?? process.platform;
  const log = options.log ?? defaultLog;
  if (platform === "linux") {
    try {
      (options.probe ?? probeEchoSocket)();
      return new LinuxIcmpForwarder(context, { log, ...options.linux });
    } catch (error) {
      if (!toldFallback.has(log)) {
        toldFallback.add(log);
        const reason = error instanceof Error ? error.message : String(error);
        log(`ICMP echo uses the ping command instead of ICMP sockets: ${reason}`);
      }
    }
  }
  return new PingCommandForwarder(context, { platform, ...options.pingCommand });
}
