// ICMP echo without ICMP sockets: run the OS `ping` once per echo request and, when the
// destination answered, build the echo reply ourselves (Tailscale's userspace mode does the same).
// Used on macOS and Windows, where the local helper has no native code of ours, and on Linux when
// the addon cannot open an ICMP socket. The system ping has the privilege we lack (setuid, file
// capabilities, or the Windows ICMP API).
//
// The reply echoes the remote's own payload: the OS ping sends its own data, which the remote's
// ping would reject. TTL is the one the OS ping saw, when it printed one.
import { CommandError, runCommand } from "../../run-command.js";
import { buildIcmpEchoPacket, formatAddress, type IcmpView, type IpView } from "../../packet/index.js";
import type { IcmpForwarder } from "../icmp-forwarder.js";
import {
  DEFAULT_ECHO_FLOW_LIMITS,
  EchoFlows,
  type EchoFlow,
  type EchoFlowLimits,
  type IcmpForwarderContext,
} from "./echo-flows.js";
import { parsePingReply, type PingReply } from "./ping-output.js";

export interface PingResult {
  stdout: string;
  /** Exit code; null when killed (timeout). Informational: the output decides. */
  code: number | null;
}

/** Runs one ping command; must settle within about `timeoutMs`. */
export type PingRunner = (file: string, args: readonly string[], timeoutMs: number) => Promise<PingResult>;

export interface PingCommandOptions {
  platform?: NodeJS.Platform;
  run?: PingRunner;
  /** Ping processes at once; requests beyond are dropped (counters.icmpOverLimit). */
  maxConcurrent?: number;
  /** How long each ping waits for its reply. */
  waitMs?: number;
  limits?: EchoFlowLimits;
}

const DEFAULT_MAX_CONCURRENT = 16;
const DEFAULT_WAIT_MS = 3_000;
/** Process start-up and exit on top of the wait, before the runner kills it. */
const GRACE_MS = 2_000;

/** The command that sends one echo request to `address` and waits `waitMs` for the reply. */
export function pingCommand(
  platform: NodeJS.Platform,
  family: 4 | 6,
  address: string,
  waitMs: number,
): { file: string; args: string[] } {
  switch (platform) {
    case "win32":
      return { file: "ping", args: ["-n", "1", "-w", String(waitMs), family === 6 ? "-6" : "-4", address] };
    case "linux":
      // iputils: -W is whole seconds; -n keeps addresses numeric.
      return {
        file: "ping",
        args: ["-n", "-c", "1", "-W", String(Math.max(1, Math.ceil(waitMs / 1000))), `-${family}`, address],
      };
    case "darwin":
      // macOS ping's -W is in milliseconds; ping6 has no wait option: the runner's timeout ends it.
      return family === 6
        ? { file: "ping6", args: ["-n", "-c", "1", address] }
        : { file: "ping", args: ["-n", "-c", "1", "-W", String(waitMs), address] };
    default:
      return { file: family === 6 ? "ping6" : "ping", args: ["-n", "-c", "1", address] };
  }
}

/** A hard timeout; ping's output is ASCII apart from translated words. Never rejects: no reply is a result. */
export const runPing: PingRunner = async (file, args, timeoutMs) => {
  try {
    const { stdout } = await runCommand(file, args, {
      timeoutMs,
      killSignal: "SIGKILL",
      encoding: "latin1",
      maxOutputBytes: 64 * 1024,
      // English output where the OS honours it (not Windows: see ping-output.ts).
      env: { ...process.env, LC_ALL: "C" },
    });
    return { stdout, code: 0 };
  } catch (error) {
    return error instanceof CommandError
      ? { stdout: error.stdout, code: error.exitCode }
      : { stdout: "", code: null };
  }
};

export class PingCommandForwarder implements IcmpForwarder {
  /** Runs that ended without a reply from the destination. */
  unanswered = 0;
  private readonly flows: EchoFlows;
  private readonly platform: NodeJS.Platform;
  private readonly run: PingRunner;
  private readonly maxConcurrent: number;
  private readonly waitMs: number;
  private running = 0;
  private closed = false;

  constructor(
    private readonly context: IcmpForwarderContext,
    options: PingCommandOptions = {},
  ) {
    this.platform = options.platform ?? process.platform;
    this.run = options.run ?? runPing;
    this.maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
    this.waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    this.flows = new EchoFlows(context, options.limits ?? DEFAULT_ECHO_FLOW_LIMITS);
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /** Ping processes running now. */
  get inFlight(): number {
    return this.running;
  }

  handle(ip: IpView, icmp: IcmpView): void {
    if (this.closed) return;
    const flow = this.flows.admit(ip, icmp);
    if (!flow) return;
    if (this.running >= this.maxConcurrent) {
      this.context.counters.icmpOverLimit++;
      return;
    }
    this.flows.countUp(flow, icmp.buf.length);
    // The packet is a view into the link's frame: keep copies past this call.
    const payload = Buffer.from(icmp.payload);
    this.running++;
    void this.ping(flow, icmp.sequence, payload);
  }

  endFlowsTo(matches: (address: Uint8Array) => boolean, reason: string): number {
    return this.flows.endFlowsTo(matches, reason);
  }

  close(reason: string): void {
    this.closed = true;
    this.flows.endAll(reason);
  }

  /**
   * Never rejects: an unhandled rejection would stop the helper (Node 20). A bug met while
   * answering (building or sending the reply) is counted like the engine's contained errors, and
   * its flow ends.
   */
  private async ping(flow: EchoFlow, sequence: number, payload: Buffer): Promise<void> {
    try {
      await this.answer(flow, sequence, payload);
    } catch (error) {
      this.context.counters.internalErrors++;
      this.flows.end(flow, `ping failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.running--;
    }
  }

  private async answer(flow: EchoFlow, sequence: number, payload: Buffer): Promise<void> {
    const address = formatAddress(flow.destination);
    const { file, args } = pingCommand(this.platform, flow.family, address, this.waitMs);
    let reply: PingReply | undefined;
    try {
      const result = await this.run(file, args, this.waitMs + GRACE_MS);
      reply = parsePingReply(result.stdout, address);
    } catch {
      reply = undefined;
    }
    if (!reply) {
      this.unanswered++;
      return;
    }
    if (this.closed || flow.ended) return;
    const packet = buildIcmpEchoPacket({
      kind: "reply",
      src: flow.destination,
      dst: flow.remote,
      identifier: flow.identifier,
      sequence,
      payload,
      hopLimit: reply.ttl,
    });
    this.context.output.send(packet);
    this.flows.countDown(flow, 8 + payload.length);
  }
}
