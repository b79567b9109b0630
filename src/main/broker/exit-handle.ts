/**
 * The exit side of one link as the Session sees it, wherever it runs: in the supervised local
 * helper process (helper/helper-exit.ts, the product) or in this process (tests, the agent's
 * own harnesses). Either way the Session waits for the same things and the UI reads the same
 * tables.
 */
import type { Duplex, Writable } from "node:stream";
import type { DnsRow } from "../../shared/dns-row.js";
import type { FlowRow, TableDelta } from "../../shared/flow-row.js";
import { agentProgress, type HelperExitOptions } from "../../shared/helper-protocol.js";
import { ExitSession, openExitLink, type ExitSessionOptions } from "../../helper/engines/exit-session.js";
import type { RemoteCheckQuestion } from "../../helper/engines/link/remote-checks.js";
import type { RemoteDiagnosis } from "../../shared/diagnose-frames.js";

export interface LiveTable<Row> {
  /** Copies of every row, for a new subscriber; deltas follow. */
  snapshot(): Row[];
  subscribe(listener: (delta: TableDelta<Row>) => void): () => void;
}

export interface LiveFlowTable extends LiveTable<FlowRow> {
  readonly openCount: number;
}

export interface CaptureRequest {
  /** The capture's size limit: it stops, complete and readable, before passing it. */
  maxBytes: number;
  /** Names the session in the capture's interfaces and comments. */
  session: string;
}

/** A packet capture that runs: the link's packets as pcapng into a file main opened. */
export interface PacketCapture {
  /** Bytes written to the file so far. */
  readonly bytes: number;
  /** Resolves once the file is complete and closed, with the sentence to show. */
  readonly ended: Promise<string>;
  /** Stops recording; `ended` resolves once the file is closed. */
  stop(): void;
}

export interface ExitHandle {
  readonly nat: { readonly table: LiveFlowTable };
  readonly dns: { readonly table: LiveTable<DnsRow> } | undefined;
  /** Resolves when the link handshake with the agent is done; rejects if the link closes first. */
  readonly ready: Promise<void>;
  /** Resolves (never rejects) with why the link ended. */
  readonly closed: Promise<{ reason: string }>;
  readonly rttMs: number | null;
  /** The agent's progress (STATS extras agent.routes, agent.ready), each time it changes. */
  onProgress(listener: (extra: Record<string, number>) => void): void;
  updateRoutes(routes: string[]): void;
  /** Split DNS: this computer's domains changed; the agent's split follows. */
  updateDnsDomains(domains: string[]): void;
  /** The DNS mode changed while connected (with split's domains); the agent's resolver follows. */
  updateDnsMode(mode: HelperExitOptions["dns"], domains: string[]): void;
  /**
   * "Allow access to this computer" changed: new flows follow it; switched off, the flows open to
   * this computer end. Resolves with how many ended; rejects when the exit could not say.
   */
  setAllowLocal(allow: boolean): Promise<number>;
  /** "Can the remote reach …?" asked of the agent; rejects with why it cannot answer. */
  checkRemote(question: RemoteCheckQuestion): Promise<RemoteDiagnosis>;
  /**
   * Records the link's packets, both directions, as pcapng into `file` (which the capture ends).
   * One at a time: a new capture replaces the running one.
   */
  startCapture(file: Writable, request: CaptureRequest): Promise<PacketCapture>;
  close(reason: string): void;
}

export interface ExitProvider {
  /**
   * Gets ready before the agent starts (the helper, which may ask for a password): the agent's
   * handshake timeout must not include a user typing.
   */
  prepare?(): Promise<void>;
  /** Runs the exit side on `stream` (the agent's link). */
  open(stream: Duplex, options: HelperExitOptions): Promise<ExitHandle>;
}

/** The exit side in this process; `extra` carries what cannot cross a socket (test resolvers). */
export function inProcessExit(extra: Pick<ExitSessionOptions, "icmp" | "dnsEngine"> = {}): ExitProvider {
  return {
    async open(stream, options) {
      const link = openExitLink(stream, options);
      const closed = link.closed.then((info) => ({ reason: info.reason }));
      let exit: ExitSession;
      try {
        exit = await ExitSession.start({
          ...options,
          ...extra,
          link,
          ...(process.getuid ? { socksOwnerUid: process.getuid() } : {}),
        });
      } catch (error) {
        link.close("the exit side could not start");
        throw error;
      }
      return {
        nat: exit.nat,
        dns: exit.dns,
        ready: link.ready.then(() => undefined),
        closed,
        get rttMs() {
          return link.rttMs;
        },
        onProgress: (listener) =>
          link.on("stats", (report) => {
            const progress = agentProgress(report.extra);
            if (Object.keys(progress).length > 0) listener(progress);
          }),
        updateRoutes: (routes) => exit.updateRoutes(routes),
        updateDnsDomains: (domains) => exit.updateDnsDomains(domains),
        updateDnsMode: (mode, domains) => exit.updateDnsMode(mode, domains),
        setAllowLocal: (allow) => Promise.resolve(exit.setAllowLocal(allow)),
        checkRemote: (question) => exit.remoteChecks.ask(question),
        startCapture: async (file, request) => {
          let stoppedBy = "capture stopped";
          const writer = exit.startCapture(file, { ...request, onStop: (reason) => (stoppedBy = reason) });
          const ended = new Promise<string>((resolve) => file.once("close", () => resolve(stoppedBy)));
          return {
            get bytes() {
              return writer.counts.bytes;
            },
            ended,
            stop: () => writer.close(),
          };
        },
        close: (reason) => link.close(reason),
      };
    },
  };
}
