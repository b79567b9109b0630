/**
 * The exit side run by the supervised local helper: main relays the agent's stream to a link
 * connection and follows the link on its control connection (progress, tables, round-trip time).
 */
import type { Socket } from "node:net";
import type { Duplex, Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import type { DnsRow } from "../../../shared/dns-row.js";
import {
  encodeLine,
  MAX_HELPER_LINE,
  parseEvent,
  type HelperExitOptions,
} from "../../../shared/helper-protocol.js";
import { splitLines } from "../../../helper/local/line-socket.js";
import { REMOTE_CHECK_TIMEOUT_MS } from "../../../helper/engines/link/remote-checks.js";
import { parseRemoteDiagnosis, type RemoteDiagnosis } from "../../../shared/diagnose-frames.js";
import { megabytes } from "../../../helper/engines/capture/pcapng-writer.js";
import { createIcmpForwarder } from "../../../helper/engines/nat/icmp/index.js";
import {
  inProcessExit,
  type CaptureRequest,
  type ExitHandle,
  type ExitProvider,
  type PacketCapture,
} from "../exit-handle.js";
import {
  attachHelperControl,
  openHelperCapture,
  openHelperLink,
  type HelperEndpoint,
} from "./helper-client.js";
import { MirrorFlowTable, MirrorTable } from "./mirror-table.js";
import type { HelperSupervisor } from "./supervisor.js";

/** `endpoint` starts the helper when it is not running (HelperSupervisor.endpoint). */
export function helperExit(endpoint: () => Promise<HelperEndpoint>): ExitProvider {
  return {
    prepare: async () => void (await endpoint()),
    async open(stream: Duplex, options: HelperExitOptions): Promise<ExitHandle> {
      const target = await endpoint();
      const link = await openHelperLink(target, options);
      let control: Socket;
      try {
        control = await attachHelperControl(target, link.linkId);
      } catch (error) {
        link.socket.destroy();
        throw error;
      }
      const capture = (file: Writable, request: CaptureRequest): Promise<PacketCapture> =>
        openHelperCapture(target, link.linkId, request).then((socket) =>
          relayCapture(socket, file, stopReasons),
        );
      const stopReasons = new CaptureStopReasons();
      return follow(stream, link.socket, control, link.dns, stopReasons, capture);
    },
  };
}

/** How long the helper has to end a capture's stream after main asked it to stop. */
const CAPTURE_STOP_TIMEOUT_MS = 5_000;
/** How long main waits, after a capture's stream ended, for the helper to say why. */
const CAPTURE_REASON_WAIT_MS = 1_000;

/** The helper's "capture" events: why the running capture stopped, for the relay to report. */
class CaptureStopReasons {
  private waiter: ((reason: string) => void) | undefined;
  private last: string | undefined;

  heard(reason: string): void {
    this.last = reason;
    this.waiter?.(reason);
  }

  /** Forgets an earlier capture's reason (a new capture starts). */
  reset(): void {
    this.last = undefined;
  }

  /** The reason once heard, or undefined if none comes in time. */
  async next(): Promise<string | undefined> {
    if (this.last !== undefined) return this.last;
    const heard = new Promise<string>((resolve) => (this.waiter = resolve));
    return Promise.race([heard, delay(CAPTURE_REASON_WAIT_MS).then(() => undefined)]);
  }
}

/**
 * Relays a capture connection's pcapng bytes into the user's file, opened by main as the user.
 * A file that fails (disk full) ends the capture; the file is never written by the helper.
 */
function relayCapture(socket: Socket, file: Writable, reasons: CaptureStopReasons): PacketCapture {
  reasons.reset();
  let bytes = 0;
  let failure: string | undefined;
  socket.on("data", (chunk: Buffer) => (bytes += chunk.length));
  socket.pipe(file);
  file.once("error", (error: NodeJS.ErrnoException) => {
    failure = `capture stopped at ${megabytes(bytes)} MB: ${error.code === "ENOSPC" ? "disk full" : error.message}`;
    socket.destroy();
  });
  const closed = new Promise<void>((resolve) => file.once("close", () => resolve()));
  const ended = closed.then(
    async () => failure ?? (await reasons.next()) ?? `capture stopped at ${megabytes(bytes)} MB`,
  );
  return {
    get bytes() {
      return bytes;
    },
    ended,
    stop: () => {
      if (socket.destroyed) return;
      socket.write("stop\n");
      // A helper that does not end the stream in time must not hold the file (or main's exit).
      setTimeout(() => {
        socket.destroy();
        if (!file.writableEnded) file.end();
      }, CAPTURE_STOP_TIMEOUT_MS).unref();
    },
  };
}

function follow(
  stream: Duplex,
  socket: Socket,
  control: Socket,
  hasDns: boolean,
  captureReasons: CaptureStopReasons,
  startCapture: ExitHandle["startCapture"],
): ExitHandle {
  const flows = new MirrorFlowTable();
  const dns = hasDns ? new MirrorTable<DnsRow>() : undefined;
  const progressListeners: ((extra: Record<string, number>) => void)[] = [];
  const checks = new PendingAnswers<RemoteDiagnosis>(
    CHECK_TIMEOUT_MS,
    "the local helper did not answer the check",
  );
  const allowLocalAnswers = new PendingAnswers<number>(
    ALLOW_LOCAL_TIMEOUT_MS,
    "the local helper did not confirm the change of access to this computer",
  );
  let rttMs: number | null = null;
  let markReady: () => void = () => undefined;
  let failReady: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => undefined); // the Session reads `closed` too
  let markClosed: (info: { reason: string }) => void = () => undefined;
  const closed = new Promise<{ reason: string }>((resolve) => (markClosed = resolve));
  let ended = false;
  const end = (reason: string): void => {
    if (ended) return;
    ended = true;
    failReady(new Error(`the link closed: ${reason}`));
    checks.failAll(`the link closed: ${reason}`);
    allowLocalAnswers.failAll(`the link closed: ${reason}`);
    markClosed({ reason });
    control.destroy();
    socket.end();
  };

  // The relay: the agent's stream to the helper's link socket and back.
  stream.pipe(socket);
  socket.pipe(stream);
  socket.once("close", () => {
    // Closing the socket unpiped (and so paused) the agent's stream. It must still be read to its
    // end: an SSH channel reports its close, which says the agent has exited, only after that.
    stream.resume();
    if (!stream.writableEnded) stream.end();
    end("the local helper closed the link");
  });
  stream.once("close", () => socket.end());
  // An agent stream that fails (EPIPE after its process died) ends the link; unhandled, it would
  // be an uncaught error in main.
  stream.on("error", (error: Error) => {
    socket.destroy();
    end(`the agent's stream failed: ${error.message}`);
  });
  socket.resume();

  splitLines(
    control,
    MAX_HELPER_LINE,
    (line) => {
      let event;
      try {
        event = parseEvent(line);
      } catch {
        return; // our own helper: a line we do not know is from a newer one; skip it
      }
      switch (event.type) {
        case "ready":
          return markReady();
        case "progress":
          return progressListeners.forEach((listener) => listener(event.extra));
        case "flows":
          return flows.apply(event.delta);
        case "dns":
          return dns?.apply(event.delta);
        case "status":
          rttMs = event.rttMs;
          return;
        case "capture":
          return captureReasons.heard(event.stopped);
        case "diagnosis":
          return checks.settle(event.id, () => readDiagnosis(event));
        case "allowLocal":
          return allowLocalAnswers.settle(event.id, () => readEndedFlows(event));
        case "closed":
          return end(event.reason);
      }
    },
    () => end("the local helper sent an oversized message"),
  );
  control.once("close", () => end("the local helper went away"));
  control.resume();

  return {
    nat: { table: flows },
    dns: dns ? { table: dns } : undefined,
    ready,
    closed,
    get rttMs() {
      return rttMs;
    },
    onProgress: (listener) => void progressListeners.push(listener),
    updateRoutes: (routes) => void (ended || control.write(encodeLine({ type: "routes", routes }))),
    updateDnsDomains: (domains) => void (ended || control.write(encodeLine({ type: "dnsDomains", domains }))),
    updateDnsMode: (mode, domains) =>
      void (ended || control.write(encodeLine({ type: "dnsMode", mode, domains }))),
    setAllowLocal: (allow) => {
      if (ended) return Promise.reject(new Error("the link to the remote is closed"));
      const { id, answer } = allowLocalAnswers.open();
      control.write(encodeLine({ type: "allowLocal", id, allow }));
      return answer;
    },
    checkRemote: (question) => {
      if (ended) return Promise.reject(new Error("the link to the remote is closed"));
      const { id, answer } = checks.open();
      control.write(encodeLine({ type: "diagnose", id, ...question }));
      return answer;
    },
    startCapture,
    close: (reason) => {
      if (ended) return;
      control.write(encodeLine({ type: "close", reason }));
    },
  };
}

/** Main gives up on a "diagnose" the helper never answers (the helper's own timeout is shorter). */
const CHECK_TIMEOUT_MS = REMOTE_CHECK_TIMEOUT_MS + 5_000;
/** Main gives up on an "allowLocal" the helper never answers: it only sets a flag and resets flows. */
const ALLOW_LOCAL_TIMEOUT_MS = 5_000;

/** Commands sent to the helper and answered by id ("diagnose", "allowLocal"). */
class PendingAnswers<Answer> {
  private readonly pending = new Map<number, { resolve(answer: Answer): void; reject(e: Error): void }>();
  private nextId = 1;

  /** `timeoutMessage`: the rejection when no answer comes within `timeoutMs`. */
  constructor(
    private readonly timeoutMs: number,
    private readonly timeoutMessage: string,
  ) {}

  open(): { id: number; answer: Promise<Answer> } {
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(this.timeoutMessage));
      }, this.timeoutMs);
      this.pending.set(id, {
        resolve: (result) => (clearTimeout(timer), resolve(result)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
    return { id, answer };
  }

  /** The helper's answer to `id`: `read` checks it (and throws when it is not one). */
  settle(id: number, read: () => Answer): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    try {
      pending.resolve(read());
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  failAll(reason: string): void {
    for (const pending of this.pending.values()) pending.reject(new Error(reason));
    this.pending.clear();
  }
}

/** The helper's answer to a "diagnose", checked again here: it relays what the agent said. */
function readDiagnosis(event: { result: unknown; error: unknown }): RemoteDiagnosis {
  if (event.result !== null && event.result !== undefined) return parseRemoteDiagnosis(event.result);
  throw new Error(typeof event.error === "string" ? event.error : "no answer");
}

/** The helper's answer to an "allowLocal": how many flows it ended. */
function readEndedFlows(event: { endedFlows: unknown }): number {
  const ended = event.endedFlows;
  if (typeof ended === "number" && Number.isSafeInteger(ended) && ended >= 0) return ended;
  throw new Error("the local helper's answer gave no count of the flows it ended");
}

/**
 * The product's exit side: the supervised helper. On Windows, where the helper's socket would
 * need a named pipe with an owner-only ACL that Node cannot set, the engines run in this process
 * (nothing there needs elevation: ICMP goes through the ping command).
 */
export function localExit(
  supervisor: HelperSupervisor,
  platform: NodeJS.Platform = process.platform,
): ExitProvider {
  if (platform === "win32") return inProcessExit({ icmp: createIcmpForwarder });
  return helperExit(() => supervisor.endpoint());
}
