// One interface for the ways a Linux host's resolver can be pointed at the link's DNS stub, as
// in Tailscale's net/dns: a plain /etc/resolv.conf (resolv-conf.ts) or systemd-resolved
// (resolved.ts), chosen at run time by detect.ts. DNS mode "off" never gets here.
import type { LinkDnsConfig } from "../../../shared/link-protocol.js";
import type { Journal } from "../journal.js";
import type { UndoEntry } from "../undo-entry.js";
import type { SplitForwarderCounters } from "./split-forwarder.js";

/** What to set up: every name ("all") or only names under some domains ("split"). */
export type DnsSettings = Exclude<LinkDnsConfig, { mode: "off" }>;

export type DnsConfiguratorKind = "resolv-conf" | "resolved";

export interface DnsConfigurator {
  readonly kind: DnsConfiguratorKind;
  /** What it changes, for the user: "rewrites /etc/resolv.conf in place", ... */
  readonly description: string;
  /**
   * Points the resolver at `settings.servers`. Every change is recorded in `journal` before it
   * is made, so journal.undoAll() (or the next agent start) restores the resolver. Throws
   * DnsUnsupportedError for settings this configurator cannot honour.
   */
  apply(settings: DnsSettings, journal: Journal): Promise<void>;
  /**
   * A later CONFIG in the same mode: split mode's domains follow the routes (their reverse
   * zones). Changes nothing that apply() did not journal already.
   */
  update(settings: DnsSettings): Promise<void>;
  /**
   * Split mode's forwarder while it runs (resolv-conf.ts): which code relays its UDP and where its
   * names went. Absent or null where names are routed without one (systemd-resolved).
   */
  readonly splitForwarder?: SplitForwarderView | null;
  /** Stops what runs in this process for it (split mode's forwarder); the journal undoes the rest. */
  close(): Promise<void>;
}

/** What the agent reports of a running split forwarder. */
export interface SplitForwarderView {
  readonly udpRelay: "native" | "javascript";
  readonly counters: SplitForwarderCounters;
}

/**
 * The journal entries a configurator makes: undoing them (Journal.undoWhere) restores the resolver
 * and nothing else, as a DNS mode change needs.
 */
export function isDnsChange(entry: UndoEntry): boolean {
  return entry.kind === "resolv-conf" || entry.kind === "resolved-link";
}
