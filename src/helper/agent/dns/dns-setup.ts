/**
 * The remote's resolver as the link's CONFIG wants it, for the life of the agent: the connect's
 * mode, later CONFIGs' domains (split follows the routes' reverse zones) and a change of mode
 * (Settings → DNS while connected). A mode is left exactly as Ctrl+C would leave it, but only its
 * DNS part (Journal.undoWhere with isDnsChange: resolv.conf byte for byte, resolved's link, the
 * split forwarder stopped); routes, the TUN and flows stay. The next mode is then entered as at a
 * connect. Changes run one at a time, in the order the CONFIGs came.
 */
import type { LinkDnsConfig } from "../../../shared/link-protocol.js";
import { describeUndoReport, type Journal } from "../../system/journal.js";
import { isDnsChange, type DnsConfigurator } from "../../system/dns/configurator.js";
import type { DnsDetection } from "../../system/dns/detect.js";
import type { AgentDnsSetup, SplitCounts } from "../../../shared/remote-dns-status.js";

export type DnsMode = LinkDnsConfig["mode"];

export interface DnsSetupOptions {
  journal: Journal;
  /** Picks the configurator for this remote, as at connect (detectDnsConfigurator). */
  detect: () => Promise<DnsDetection>;
  log: (line: string) => void;
}

/** What the agent's log says of a mode, once it is in force. */
export function describeDnsMode(mode: DnsMode, domains: readonly string[] = []): string {
  if (mode === "split") return `split, ${domains.length} domain(s) through the link`;
  if (mode === "all") return "all, every name through the link";
  return "off, the remote's own resolver for every name";
}

export class DnsSetup {
  private mode: DnsMode = "off";
  private configurator: DnsConfigurator | undefined;
  /** Split's domains as last applied, for the log. */
  private domains: readonly string[] = [];
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DnsSetupOptions) {}

  /** The mode in force now (after the change under way, if any, only once it is done). */
  get current(): DnsMode {
    return this.mode;
  }

  /** How the resolver is set up for the mode in force (agent.dnsSetup). */
  get setup(): AgentDnsSetup {
    const configurator = this.configurator;
    if (this.mode === "off" || configurator === undefined) return "none";
    if (configurator.kind === "resolved") return "systemd-resolved";
    const forwarder = configurator.splitForwarder;
    return forwarder ? `resolv-conf-forwarder-${forwarder.udpRelay}` : "resolv-conf";
  }

  /** Where split mode's forwarder sent names so far; null without one (other modes, systemd-resolved). */
  get splitCounts(): SplitCounts | null {
    const forwarder = this.mode === "split" ? this.configurator?.splitForwarder : null;
    if (!forwarder) return null;
    const { viaLink, viaRemote, unanswered, refused, overloaded } = forwarder.counters;
    return { viaLink, viaRemote, unanswered, refused, overloaded };
  }

  /**
   * The connect's CONFIG: throws what stopped it (the agent then fails the connect, as before
   * live changes existed), with the resolver restored.
   */
  start(wanted: LinkDnsConfig): Promise<void> {
    return this.serial(() => this.switchTo(wanted));
  }

  /**
   * A later CONFIG: `wanted` may wait for the routes (their skipped prefixes' zones leave split).
   * A failure is logged, never thrown: the session keeps running, with the resolver either in the
   * old mode (its restore failed) or restored to the remote's own (the new mode failed).
   */
  configure(wanted: LinkDnsConfig | Promise<LinkDnsConfig>): Promise<void> {
    return this.serial(async () => {
      const settings = await wanted;
      try {
        await this.switchTo(settings);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        this.options.log(
          settings.mode === this.mode
            ? `dns: ${why}`
            : `dns: could not switch to ${settings.mode} (${why}); now ${describeDnsMode(this.mode, this.domains)}`,
        );
      }
    });
  }

  private async switchTo(wanted: LinkDnsConfig): Promise<void> {
    if (wanted.mode === this.mode) {
      if (wanted.mode === "off") return;
      await this.configurator?.update(wanted);
      this.domains = wanted.mode === "split" ? wanted.domains : [];
      return;
    }
    await this.leave();
    if (wanted.mode !== "off") await this.enter(wanted);
    this.options.log(`dns: now ${describeDnsMode(wanted.mode, this.domains)}`);
  }

  /** Restores what the mode changed; on a failed restore the mode stays as it was, and whole. */
  private async leave(): Promise<void> {
    if (this.mode === "off") return;
    const report = await this.options.journal.undoWhere(isDnsChange);
    for (const line of describeUndoReport(report)) this.options.log(`dns: ${line}`);
    if (report.failed.length > 0)
      throw new Error(
        `the resolver could not be restored: ${report.failed.map((f) => f.error.message).join("; ")}`,
      );
    // Only now: until the file stopped naming it, split's forwarder had to answer.
    await this.configurator?.close();
    this.configurator = undefined;
    this.mode = "off";
    this.domains = [];
  }

  private async enter(wanted: Exclude<LinkDnsConfig, { mode: "off" }>): Promise<void> {
    const { journal, log } = this.options;
    const detection = await this.options.detect();
    for (const warning of detection.warnings) log(`dns: ${warning}`);
    try {
      await detection.configurator.apply(wanted, journal);
    } catch (error) {
      // A write that failed half way may have changed the file: put back what it journaled.
      const report = await journal.undoWhere(isDnsChange).catch(() => null);
      for (const line of report ? describeUndoReport(report) : []) log(`dns: ${line}`);
      await detection.configurator.close();
      throw error;
    }
    this.configurator = detection.configurator;
    this.mode = wanted.mode;
    this.domains = wanted.mode === "split" ? wanted.domains : [];
    log(`dns: ${detection.configurator.description} (${detection.reason})`);
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
