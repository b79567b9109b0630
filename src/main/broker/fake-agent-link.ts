/**
 * For tests that drive a real Session with nothing behind it: a fake agent and the fake exit side
 * on its link. The exit side reports the agent's progress as the helper does (its whole map each
 * time); the agent exits once the link is closed, after `restore` where one is given.
 */
import { PassThrough } from "node:stream";
import type { FlowRow } from "../../shared/flow-row.js";
import { AGENT_DNS_MODES, type HelperExitOptions } from "../../shared/helper-protocol.js";
import type { ExitHandle, ExitProvider } from "./exit-handle.js";
import type { AgentTransport } from "./session.js";

export interface FakeAgentLinkOptions {
  /** The progress maps the exit side reports, in order, just after the session listens. */
  progress: readonly Record<string, number>[];
  /** Called once, when the exit side is first closed (as the real one, a second close changes nothing). */
  onClose?(reason: string): void;
  /** What the agent does between its link closing and its exit: the real one restores the remote. */
  restore?(): Promise<void>;
  /** Split DNS's domains sent to the exit side after the connect, each time. */
  onDnsDomains?(domains: string[]): void;
  /** A DNS mode (and split's domains) sent to the exit side after the connect, each time. */
  onDnsMode?(mode: string, domains: string[]): void;
  /**
   * The mode the agent then reports in force (agent.dnsMode), as the real one does after each
   * CONFIG; without it, the fake agent reports nothing.
   */
  dnsModeInForce?(asked: HelperExitOptions["dns"]): HelperExitOptions["dns"];
  /**
   * "Allow access to this computer" sent to the exit side after the connect; what it returns is
   * the count of flows the exit side says it ended (none without).
   */
  onAllowLocal?(allow: boolean): number | void;
  /** The NAT table's rows (its snapshot); none by default. */
  flows?: readonly FlowRow[];
}

export function fakeAgentLink(options: FakeAgentLinkOptions): {
  provider: ExitProvider;
  transport: AgentTransport;
} {
  let markClosed: (info: { reason: string }) => void = () => undefined;
  let ended = false;
  const closed = new Promise<{ reason: string }>((resolve) => (markClosed = resolve));
  const listeners: ((extra: Record<string, number>) => void)[] = [];
  let dnsChanges = 0;
  const handle: ExitHandle = {
    nat: {
      table: {
        snapshot: () => (options.flows ?? []).map((row) => ({ ...row })),
        subscribe: () => () => undefined,
        openCount: options.flows?.length ?? 0,
      },
    },
    dns: undefined,
    ready: Promise.resolve(),
    closed,
    rttMs: null,
    onProgress: (listener) => {
      listeners.push(listener);
      setImmediate(() => {
        for (const progress of options.progress) listener(progress);
      });
    },
    updateRoutes: () => undefined,
    updateDnsDomains: (domains) => options.onDnsDomains?.(domains),
    updateDnsMode: (mode, domains) => {
      options.onDnsMode?.(mode, domains);
      const inForce = options.dnsModeInForce?.(mode);
      if (inForce === undefined) return;
      const report = {
        "agent.dnsMode": AGENT_DNS_MODES.indexOf(inForce),
        "agent.dnsChanges": ++dnsChanges,
      };
      setImmediate(() => listeners.forEach((listener) => listener(report)));
    },
    setAllowLocal: (allow) => Promise.resolve(options.onAllowLocal?.(allow) ?? 0),
    checkRemote: () => Promise.reject(new Error("this fake agent checks nothing")),
    startCapture: () => Promise.reject(new Error("this fake records no packets")),
    close: (reason) => {
      if (ended) return;
      ended = true;
      options.onClose?.(reason);
      markClosed({ reason });
    },
  };
  const transport: AgentTransport = {
    stream: new PassThrough(),
    stderr: new PassThrough(),
    close: () => markClosed({ reason: "the transport closed" }),
    exited: closed.then(async () => {
      await options.restore?.();
    }),
  };
  return { provider: { open: () => Promise.resolve(handle) }, transport };
}
