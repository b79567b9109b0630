// systemd-resolved: DNS is set per link, on the TUN device itself, with resolvectl. Nothing in
// /etc changes, and resolved forgets the settings by itself when the device goes away; the
// journal still records them so a live agent can revert them (`resolvectl revert LINK`).
//
// Mode "all" gives the link the routing domain "~.", which matches every name, so resolved
// sends every query to our stub; mode "split" gives it "~domain" for each domain only, and takes
// DefaultRoute away from the link, so that names under no link's domains keep the remote's own
// servers (resolved's automatic mode does the same for a link with routing-only domains; saying
// it leaves nothing to a version's defaults).
import { execFileRunner, isAlreadyGone, type CommandRunner } from "../command.js";
import type { Journal, UndoOutcome } from "../journal.js";
import type { DnsConfigurator, DnsSettings } from "./configurator.js";

export const RESOLVECTL = "resolvectl";

export function routingDomains(settings: DnsSettings): string[] {
  return settings.mode === "all" ? ["~."] : settings.domains.map((domain) => `~${domain}`);
}

export async function revertResolvedLink(link: string, run: CommandRunner): Promise<UndoOutcome> {
  try {
    await run(RESOLVECTL, ["revert", link]);
    return { status: "undone" };
  } catch (error) {
    // The link is gone, and resolved dropped its settings with it.
    if (isAlreadyGone(error)) return { status: "already-gone" };
    throw error;
  }
}

export class ResolvedConfigurator implements DnsConfigurator {
  readonly kind = "resolved";
  readonly description: string;

  constructor(
    /** The TUN device's name: the link the settings belong to. */
    readonly link: string,
    private readonly run: CommandRunner = execFileRunner,
  ) {
    this.description = `sets DNS on ${link} through systemd-resolved (resolvectl)`;
  }

  async apply(settings: DnsSettings, journal: Journal): Promise<void> {
    await journal.recordThenApply({ kind: "resolved-link", link: this.link }, async () => {
      await this.run(RESOLVECTL, ["dns", this.link, ...settings.servers]);
      await this.run(RESOLVECTL, ["domain", this.link, ...routingDomains(settings)]);
      if (settings.mode === "split") await this.run(RESOLVECTL, ["default-route", this.link, "false"]);
    });
  }

  async update(settings: DnsSettings): Promise<void> {
    await this.run(RESOLVECTL, ["domain", this.link, ...routingDomains(settings)]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
