/**
 * The remote's resolver as its agent reports it in STATS extras (issue #16's split DNS): the mode
 * in force, how it is set up (a resolv.conf forwarder, systemd-resolved...) and, for split mode's
 * forwarder, where its names went. The agent encodes (remoteDnsExtras), main decodes what the
 * helper kept of them (remoteDnsStatus); the window, the control socket and `backhaul diagnose`
 * show the result.
 */
import type { HelperExitOptions } from "./helper-protocol.js";

/** agent.dnsMode's values. */
export const AGENT_DNS_MODES: readonly HelperExitOptions["dns"][] = ["off", "all", "split"];

/**
 * agent.dnsSetup's values: nothing changed ("none", mode off); resolv.conf names the link's stub
 * (mode all); resolv.conf names split mode's forwarder, which relays UDP in its native thread or in
 * JavaScript; systemd-resolved routes names per link itself (either mode: no forwarder, no counts).
 */
export const AGENT_DNS_SETUPS = [
  "none",
  "resolv-conf",
  "resolv-conf-forwarder-native",
  "resolv-conf-forwarder-javascript",
  "systemd-resolved",
] as const;
export type AgentDnsSetup = (typeof AGENT_DNS_SETUPS)[number];

/** What split mode's forwarder counts (SplitForwarderCounters), in the order they are shown. */
export const SPLIT_COUNTER_NAMES = ["viaLink", "viaRemote", "unanswered", "refused", "overloaded"] as const;
export type SplitCounterName = (typeof SPLIT_COUNTER_NAMES)[number];
export type SplitCounts = Record<SplitCounterName, number>;

const SETUP_KEY = "agent.dnsSetup";
const MODE_KEY = "agent.dnsMode";
const counterKey = (name: SplitCounterName): string => `agent.split.${name}`;

/** The STATS extras this file adds to the agent's progress keys (AGENT_PROGRESS_KEYS). */
export const REMOTE_DNS_KEYS: readonly string[] = [SETUP_KEY, ...SPLIT_COUNTER_NAMES.map(counterKey)];

/** The remote's DNS as main keeps it; counts only while split mode's forwarder runs and reported them. */
export type RemoteDnsStatus = {
  mode: HelperExitOptions["dns"];
  /** null: an agent too old to say. */
  setup: AgentDnsSetup | null;
} & Partial<SplitCounts>;

/** What each setup is, for people. */
export const DNS_SETUP_LABELS: Record<AgentDnsSetup, string> = {
  none: "the remote's own resolver, untouched",
  "resolv-conf": "resolv.conf names Backhaul's stub",
  "resolv-conf-forwarder-native": "resolv.conf names Backhaul's split forwarder (native relay)",
  "resolv-conf-forwarder-javascript": "resolv.conf names Backhaul's split forwarder (JavaScript relay)",
  "systemd-resolved": "systemd-resolved, routing names per link",
};

export function hasForwarder(setup: AgentDnsSetup | null): boolean {
  return setup === "resolv-conf-forwarder-native" || setup === "resolv-conf-forwarder-javascript";
}

/** The agent's side: its setup, and the forwarder's counts when one runs. */
export function remoteDnsExtras(
  setup: AgentDnsSetup,
  counts: Readonly<SplitCounts> | null,
): Record<string, number> {
  const extras: Record<string, number> = { [SETUP_KEY]: AGENT_DNS_SETUPS.indexOf(setup) };
  if (counts !== null) for (const name of SPLIT_COUNTER_NAMES) extras[counterKey(name)] = counts[name];
  return extras;
}

/**
 * Main's side, from the agent's progress merged over the link's life (agentProgress has kept only
 * non-negative integers): null before the agent reported a mode. Counts from a forwarder that has
 * stopped since (the mode changed) stay in the map and are left out here.
 */
export function remoteDnsStatus(progress: Readonly<Record<string, number>>): RemoteDnsStatus | null {
  const mode = AGENT_DNS_MODES[progress[MODE_KEY] ?? -1];
  if (mode === undefined) return null;
  const setupIndex = progress[SETUP_KEY];
  const setup = setupIndex === undefined ? null : (AGENT_DNS_SETUPS[setupIndex] ?? null);
  const status: RemoteDnsStatus = { mode, setup };
  if (mode !== "split" || !hasForwarder(setup)) return status;
  const counts: Partial<SplitCounts> = {};
  for (const name of SPLIT_COUNTER_NAMES) {
    const count = progress[counterKey(name)];
    if (count === undefined) return status;
    counts[name] = count;
  }
  return { ...status, ...counts };
}

export function sameRemoteDns(a: RemoteDnsStatus | null, b: RemoteDnsStatus | null): boolean {
  if (a === null || b === null) return a === b;
  return a.mode === b.mode && a.setup === b.setup && SPLIT_COUNTER_NAMES.every((name) => a[name] === b[name]);
}

/**
 * One line for a terminal: "split DNS on the remote: 12 names through this computer, 340 through
 * its own resolver, 0 unanswered, 0 refused, 0 overloaded (resolv.conf names …)".
 */
export function describeRemoteDns(status: RemoteDnsStatus): string {
  // A newer session (through the control socket) may name a setup this build does not know.
  const label = status.setup === null ? undefined : (DNS_SETUP_LABELS[status.setup] as string | undefined);
  const setup = label === undefined ? "" : ` (${label})`;
  if (status.mode === "off") return `DNS off on the remote: its own resolver answers every name${setup}`;
  if (status.mode === "all") return `all DNS of the remote through this computer${setup}`;
  if (status.setup === "systemd-resolved")
    return "split DNS on the remote through systemd-resolved: it routes names per link, no forwarder counts them";
  if (status.viaLink === undefined) return `split DNS on the remote${setup}; no counts reported yet`;
  const names = (n: number | undefined): string => `${n ?? 0} name${n === 1 ? "" : "s"}`;
  return (
    `split DNS on the remote: ${names(status.viaLink)} through this computer, ` +
    `${status.viaRemote ?? 0} through its own resolver, ${status.unanswered ?? 0} unanswered, ` +
    `${status.refused ?? 0} refused, ${status.overloaded ?? 0} overloaded${setup}`
  );
}
