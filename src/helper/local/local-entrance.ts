/**
 * The entrance on this computer (`--remote-route`, `--remote-dns-domain`): a TUN device whose
 * packets go to the exit on the remote, the chosen prefixes routed into it, and names under the
 * chosen domains resolved by the remote's resolver. Every change is journaled before it is made
 * (local-journal.ts) and undone by close(): on disconnect, link loss and the helper's signals,
 * and after a crash by the next helper's start.
 *
 * DNS, as Tailscale's net/dns does it on Linux: where systemd-resolved runs, the TUN link gets
 * the remote's resolver and a routing domain `~DOMAIN` per domain (nothing in /etc changes);
 * elsewhere the split forwarder on the TUN's own address (system/dns/split-forwarder.ts, the one
 * the agent uses for split DNS) sends DOMAIN to the remote and everything else to the servers
 * resolv.conf named, and resolv.conf names the forwarder alone until it is restored byte for byte.
 *
 * Addresses: this computer's TUN takes the link subnet's first host, as the agent's TUN does on
 * the remote, and the agent's exit answers DNS on the second. REVERSE_PACKETS frames keep the two
 * directions apart (shared/link-protocol.ts), so the same numbers serve both.
 */
import { pumpTunAndLink } from "../engines/entrance.js";
import type { PacketPort } from "../engines/port/packet-port.js";
import { checkRemoteRoutes } from "../engines/routes/remote-routes.js";
import { normaliseDnsDomain } from "../../shared/dns-domain.js";
import { linkAddresses } from "../../shared/link-addresses.js";
import { execFileRunner, type CommandRunner } from "../system/command.js";
import type { BeforeWrite } from "../system/dns/resolv-conf.js";
import type { UndoReport } from "../system/journal.js";
import { tunPort } from "../system/tun/tun-port.js";
import { takeJournalSlot, type JournalSlot } from "./local-journal.js";
import { linuxSystem, platformSystem, type DomainRules, type LocalSystem } from "./local-system.js";

export interface LocalEntranceOptions {
  /** local-journal.ts's localJournalDirectory(), or a test's. */
  journalDir: string;
  subnetV4: string;
  subnetV6: string | null;
  mtu: number;
  /** Prefixes to route into the TUN (checked here against this computer's routes). */
  routes: readonly string[];
  /** Names under these resolve with the remote's resolver. */
  dnsDomains: readonly string[];
  /** Packets to and from the exit on the remote. */
  port: PacketPort;
  log(line: string): void;
  run?: CommandRunner;
  resolvConfPath?: string;
  /** Checked before every write to resolv.conf (tests: that it is their namespace's file). */
  beforeResolvConfWrite?: BeforeWrite;
  /** This OS's TUN, routes and resolver rules (local-system.ts); chosen by platform by default. */
  system?: LocalSystem;
}

function systemFor(
  platform: NodeJS.Platform,
  options: LocalEntranceOptions,
  run: CommandRunner,
): LocalSystem {
  if (platform === "darwin" || platform === "win32") return platformSystem(platform, { run });
  return linuxSystem({
    run,
    resolvConfPath: options.resolvConfPath,
    beforeResolvConfWrite: options.beforeResolvConfWrite,
    log: options.log,
  });
}

export interface LocalEntranceInfo {
  tun: string;
  routes: string[];
  /** How names are routed: "resolved", "resolv-conf" (the split forwarder), "resolver-files" or "nrpt"; null without --remote-dns-domain. */
  dns: string | null;
}

/** Lower case, no trailing dot; refuses what cannot be a domain name. */
export function normaliseDomain(text: string): string {
  const domain = normaliseDnsDomain(text);
  if (domain === null)
    throw new TypeError(`--remote-dns-domain: ${JSON.stringify(text)} is not a domain name`);
  return domain;
}

export class LocalEntrance {
  private closing: Promise<UndoReport> | undefined;

  private constructor(
    private readonly slot: JournalSlot,
    readonly info: LocalEntranceInfo,
    private readonly stopPump: () => void,
    /** Its close() stops the split forwarder, where one runs; the journal undoes the rest. */
    private readonly dns: DomainRules | null,
  ) {}

  static async open(options: LocalEntranceOptions): Promise<LocalEntrance> {
    const run = options.run ?? execFileRunner;
    const system = options.system ?? systemFor(process.platform, options, run);
    const domains = options.dnsDomains.map(normaliseDomain);
    const subnets = [options.subnetV4, options.subnetV6].flatMap((subnet) => (subnet ? [subnet] : []));
    const routes = checkRemoteRoutes(options.routes, {
      defaultGateways: await system.defaultGateways(),
      linkSubnets: subnets,
    });
    const slot = await takeJournalSlot({
      dir: options.journalDir,
      log: options.log,
      run,
      beforeResolvConfWrite: options.beforeResolvConfWrite,
      nameInUse: (name) => system.nameInUse(name),
    });
    const { journal } = slot;
    let stopPump = (): void => undefined;
    let rules: DomainRules | null = null;
    try {
      const addresses = subnets.map(linkAddresses);
      const tun = await system.openTun(journal, slot.name, slot.openTuns, options.mtu, addresses);
      stopPump = pumpTunAndLink(tunPort(tun), options.port);
      for (const prefix of routes) await system.addRoute(journal, tun.name, prefix);
      if (domains.length > 0) {
        const servers = addresses.map((a) => a.stub);
        const listen = addresses[0]?.tun.split("/")[0] ?? "";
        rules = await system.resolveDomains(journal, tun.name, domains, servers, listen);
        options.log(`dns: ${domains.join(", ")} resolve with the remote's resolver (${rules.reason})`);
      }
      options.log(`${tun.name}: routing ${routes.join(", ") || "nothing"} to the remote`);
      return new LocalEntrance(slot, { tun: tun.name, routes, dns: rules?.kind ?? null }, stopPump, rules);
    } catch (error) {
      stopPump();
      await rules?.close();
      const report = await journal.undoAll();
      for (const failure of report.failed) options.log(`could not undo: ${failure.error.message}`);
      throw error;
    }
  }

  /** Undoes every change (once; later calls get the same report). */
  close(): Promise<UndoReport> {
    this.closing ??= (async () => {
      this.stopPump();
      await this.dns?.close();
      return this.slot.journal.undoAll();
    })();
    return this.closing;
  }
}
