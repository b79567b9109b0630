import type { DnsRow } from "../../shared/dns-row.js";
import type { FlowRow } from "../../shared/flow-row.js";
import type { SessionState } from "../broker/session.js";
import { AgentReport, describeRouting, isRoutine } from "./agent-report.js";

/** What `connect` reports: one JSON object per line with --json, short sentences otherwise. */
export interface Reporter {
  state(state: SessionState): void;
  flow(row: FlowRow): void;
  dns(row: DnsRow): void;
  /** The prefixes this computer advertises: at the start, and again after each change. */
  advertising(prefixes: readonly string[], changed: boolean): void;
  /** A line from the helper, the agent, SSH or the CLI itself. */
  log(line: string): void;
  error(message: string): void;
  /** The session's counters now (open flows, bytes, round-trip time). */
  status(text: string): void;
  /** The last word: nothing of a status line is left on a terminal. */
  close(): void;
}

export function jsonReporter(write: (line: string) => void = (l) => void process.stdout.write(l)): Reporter {
  const emit = (value: Record<string, unknown>): void => write(`${JSON.stringify(value)}\n`);
  return {
    state: (state) => emit({ type: "state", ...state }),
    // Rows of helpers older than the reverse direction carry no direction: theirs is this one.
    flow: (row) => emit({ type: "flow", direction: "remote-to-local", ...row }),
    // A DNS row's own `type` (A, AAAA...) becomes recordType: `type` names the event.
    dns: ({ type: recordType, ...row }) => emit({ type: "dns", recordType, ...row }),
    advertising: (prefixes, changed) => emit({ type: "log", line: describeAdvertising(prefixes, changed) }),
    log: (line) => emit({ type: "log", line }),
    error: (message) => emit({ type: "error", message }),
    status: () => undefined,
    close: () => undefined,
  };
}

export interface HumanReporterOptions {
  /** Every line of the helper and the agent, not only warnings and errors. */
  verbose: boolean;
  /** stdout is a terminal: the status line is rewritten in place. */
  tty: boolean;
  /** The target is an exec: command: its "ssh" step runs the command instead. */
  viaCommand?: boolean;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Clears the terminal line the cursor is on. */
const CLEAR_LINE = "\r\x1b[2K";

/**
 * The connect steps, what is routed, a status line and the restore; warnings and errors always;
 * with --verbose, every line of the helper and the agent as well.
 */
export function humanReporter(options: HumanReporterOptions): Reporter {
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const err = options.err ?? ((text: string) => void process.stderr.write(text));
  const agent = new AgentReport();
  let advertised: readonly string[] = [];
  let lastRouting = "";
  let statusShown = false;
  const print = (write: (text: string) => void, line: string): void => {
    if (statusShown) out(CLEAR_LINE);
    statusShown = false;
    write(`${line}\n`);
  };
  return {
    state: (state) => {
      if (state.state === "error") return; // connect says it once, as an error (below)
      if (state.state === "connecting" && state.step === "agent") agent.reset();
      print(
        out,
        state.state === "disconnected"
          ? describeEnd(state.reason, agent)
          : describeState(state, options.viaCommand === true),
      );
    },
    flow: () => undefined,
    dns: () => undefined,
    advertising: (prefixes, changed) => {
      advertised = prefixes;
      // Nothing advertised is worth saying at once: the remote would reach nothing.
      if (options.verbose || prefixes.length === 0) print(err, `  ${describeAdvertising(prefixes, changed)}`);
    },
    log: (line) => {
      const routing = agent.observe(line);
      if (options.verbose || !isRoutine(line)) print(err, `  ${line}`);
      if (!routing) return;
      const text = describeRouting(advertised, routing);
      if (text !== lastRouting) print(out, text);
      lastRouting = text;
    },
    error: (message) => print(err, `backhaul: ${message}`),
    status: (text) => {
      if (!options.tty) return print(out, text);
      out(`${CLEAR_LINE}${text}`);
      statusShown = true;
    },
    close: () => {
      if (statusShown) out(CLEAR_LINE);
      statusShown = false;
    },
  };
}

export function describeAdvertising(prefixes: readonly string[], changed: boolean): string {
  if (changed) return `this computer's routes changed: advertising ${prefixes.join(", ")}`;
  return `advertising ${prefixes.length > 0 ? prefixes.join(", ") : "no prefixes (add some with --route)"}`;
}

/** The disconnect, and what the agent said of the remote as it exited. */
function describeEnd(reason: string, agent: AgentReport): string {
  const restore = agent.restore;
  // Without its report the agent may still be at it (or had nothing to undo): claim nothing.
  if (restore.state !== "reported") return `disconnected: ${reason}`;
  if (restore.failed > 0)
    return `disconnected: the remote is NOT fully restored: ${restore.failed} change(s) could not be undone (see above)`;
  return `disconnected: the remote is restored (${restore.undone} change(s) undone)`;
}

export function describeState(state: SessionState, viaCommand = false): string {
  switch (state.state) {
    case "connecting":
      return `connecting: ${viaCommand && state.step === "ssh" ? "running the command" : STEP_TEXT[state.step]}`;
    case "connected":
      return "connected: the remote now reaches this computer's networks (Ctrl+C disconnects)";
    case "reconnecting":
      return `reconnecting in ${(state.retryInMs / 1000).toFixed(1)} s (attempt ${state.attempt}): ${state.reason}`;
    case "disconnected":
      return `disconnected: ${state.reason}`;
    case "error":
      return `error: ${state.message}`;
  }
}

const STEP_TEXT = {
  start: "starting",
  ssh: "opening SSH",
  upload: "checking and uploading the agent",
  agent: "starting the agent",
  routes: "setting up routes on the remote",
  dns: "pointing the remote's DNS at this computer",
} as const;

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
