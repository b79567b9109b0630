import type { DnsRow } from "../../shared/dns-row.js";
import type { FlowRow } from "../../shared/flow-row.js";
import type { SessionState } from "../broker/session.js";

/** What `connect` reports: one JSON object per line with --json, short sentences otherwise. */
export interface Reporter {
  state(state: SessionState): void;
  flow(row: FlowRow): void;
  dns(row: DnsRow): void;
  log(line: string): void;
  error(message: string): void;
  summary(text: string): void;
}

export function jsonReporter(write: (line: string) => void = (l) => void process.stdout.write(l)): Reporter {
  const emit = (value: Record<string, unknown>): void => write(`${JSON.stringify(value)}\n`);
  return {
    state: (state) => emit({ type: "state", ...state }),
    flow: (row) => emit({ type: "flow", ...row }),
    // A DNS row's own `type` (A, AAAA...) becomes recordType: `type` names the event.
    dns: ({ type: recordType, ...row }) => emit({ type: "dns", recordType, ...row }),
    log: (line) => emit({ type: "log", line }),
    error: (message) => emit({ type: "error", message }),
    summary: () => undefined,
  };
}

export function humanReporter(): Reporter {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  return {
    state: (state) => out(describeState(state)),
    flow: () => undefined,
    dns: () => undefined,
    log: (line) => process.stderr.write(`  ${line}\n`),
    error: (message) => process.stderr.write(`backhaul: ${message}\n`),
    summary: out,
  };
}

export function describeState(state: SessionState): string {
  switch (state.state) {
    case "connecting":
      return `connecting: ${STEP_TEXT[state.step]}`;
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
