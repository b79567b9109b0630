import type { Duplex, Writable } from "node:stream";
import {
  Capability,
  MAX_DNS_DOMAINS,
  type LinkConfig,
  type LinkDnsConfig,
} from "../../shared/link-protocol.js";
import type { HelperExitOptions } from "../../shared/helper-protocol.js";
import { VERSION } from "../../shared/version.js";
import { DnsEngine } from "./dns/index.js";
import { reverseZones } from "./dns/reverse-zones.js";
import { startExitEngines, stubAddresses } from "./exit.js";
import { Link } from "./link/link.js";
import { reportStreamStats, STREAM_STATS_INTERVAL_MS, streamStatsExtras } from "./link/stream-stats.js";
import { EgressPolicy } from "./nat/egress-policy.js";
import type { NatEngine, NatEngineOptions } from "./nat/engine.js";
import { PcapngWriter } from "./capture/pcapng-writer.js";
import { CaptureTap } from "./port/capture-tap.js";
import { linkPort } from "./port/link-port.js";
import { RemoteChecks } from "./link/remote-checks.js";
import type { PacketPort } from "./port/packet-port.js";
import { reverseLinkPort } from "./port/reverse-link-port.js";
import { startSocksEntrance, type SocksEntrance } from "./socks-entrance.js";

/** How the exit's Link keeps alive; the rest of HelperExitOptions is the session's. */
type KeepaliveOptions = Pick<HelperExitOptions, "keepaliveIntervalMs" | "pingTimeoutMs">;

/** The link's exit settings and the parts its engines are built from. */
export interface ExitSessionOptions extends Omit<HelperExitOptions, keyof KeepaliveOptions> {
  link: Link;
  /** The DNS engine to answer with (tests inject one with fixed resolvers). */
  dnsEngine?: DnsEngine;
  icmp?: NatEngineOptions["icmp"];
  /** Where the engines report what they contained (NatEngineOptions.log). */
  log?: (line: string) => void;
  /** `--socks`: the user whose clients need no credentials (loopback-peer.ts); none: all do. */
  socksOwnerUid?: number;
}

/**
 * The exit side of one link: the NAT engine, the DNS engine behind the stub address, and the
 * CONFIG that tells the entrance what to set up. Routes can change while it runs.
 */
export class ExitSession {
  readonly nat: NatEngine;
  /**
   * The DNS engine and its table, in every DNS mode: with `all` and `split` it answers the remote's
   * queries at the stub address; in every mode it resolves the names given to the proxy entrance
   * (streams), which the issue has appear in the DNS table like any other lookup.
   */
  readonly dns: DnsEngine;
  /** "Can the remote reach …?" asked of the agent (DIAGNOSE). */
  readonly remoteChecks: RemoteChecks;
  /**
   * The reverse direction's packets (REVERSE_PACKETS): what this computer's TUN sends to the
   * agent's exit and receives back (`--remote-route`). Packets sent before the handshake, or to
   * an agent without Capability.Reverse, are dropped and counted (link.reverse says which).
   */
  readonly remoteExitPort: PacketPort;
  /** `--socks`: the proxy once it listens; null without `--socks`, or when it could not start. */
  readonly socks: Promise<SocksEntrance | null>;
  private readonly policy: EgressPolicy;
  private readonly tap: CaptureTap;
  private capture: PcapngWriter | undefined;
  private config: LinkConfig;
  private readonly stubs: string[];
  /** Split DNS's domains: from the options, then as updateDnsDomains says. */
  private dnsDomains: readonly string[];
  /** The DNS mode: from the options, then as updateDnsMode says. */
  private dnsMode: ExitSessionOptions["dns"];

  private constructor(
    private readonly options: ExitSessionOptions,
    dns: DnsEngine,
  ) {
    const { link } = options;
    this.remoteExitPort = reverseLinkPort(link);
    const routes = this.routable(options.routes);
    this.policy = new EgressPolicy({ prefixes: routes, allowLocal: options.allowLocal });
    this.stubs = stubAddresses(options);
    this.dnsDomains = options.dnsDomains ?? [];
    this.dnsMode = options.dns;
    this.dns = dns;
    this.remoteChecks = new RemoteChecks(link);
    // The engines see the link through the tap, so that a capture shows exactly what they do.
    const port = (this.tap = new CaptureTap(linkPort(link)));
    // Names in streams resolve through the session's DNS engine, whose table the UI shows.
    const { nat, streams } = startExitEngines({
      link,
      port,
      subnets: options,
      dns,
      // In every mode, as names in streams are: --dns off leaves the remote's resolver alone, but
      // the proxy entrance resolves the names in UDP ASSOCIATE requests at the stub.
      answerAtStub: true,
      entranceName: "entrance",
      nat: {
        policy: this.policy,
        linkMtu: options.mtu,
        icmp: options.icmp,
        log: options.log,
        names: dns.addressNames,
      },
    });
    this.nat = nat;
    // Read this computer's DNS configuration now (scutil or PowerShell may take a second), not on
    // the remote's first query.
    void dns.refreshDnsConfig();
    this.config = {
      subnetV4: options.subnetV4,
      subnetV6: options.subnetV6,
      mtu: options.mtu,
      routes,
      dns: this.dnsConfig(routes),
      ...(options.reverse ? { reverse: options.reverse } : {}),
    };
    // The agent's exit's NAT table, beside ours: one table, both directions.
    link.on("flows", (delta) => this.nat.table.mirror(delta));
    this.socks = link.ready.then(
      () => {
        this.sendConfig();
        if (link.sharedCapabilities & Capability.Streams) {
          reportStreamStats(
            link,
            () => streamStatsExtras({ ...streams.counters }, streams.streamCount),
            STREAM_STATS_INTERVAL_MS,
          );
        }
        return options.socks ? this.startSocks(options.socks) : null;
      },
      () => null, // the link's own close event reports why
    );
    link.once("close", () => {
      this.capture?.close("the link closed");
      this.nat.close("link closed");
      this.dns.close();
    });
  }

  static start(options: ExitSessionOptions): Promise<ExitSession> {
    return Promise.resolve(new ExitSession(options, options.dnsEngine ?? new DnsEngine()));
  }

  get capturing(): boolean {
    return this.capture?.recording === true;
  }

  /**
   * Records the link's packets, both directions, as pcapng into `sink` (which this writer ends)
   * until `stopCapture`, the size limit, a failing sink or the link's close. One capture at a
   * time: a new one replaces the old. `onStop` hears why it stopped, once.
   */
  startCapture(
    sink: Writable,
    options: { maxBytes: number; session: string; onStop?: (reason: string) => void },
  ): PcapngWriter {
    this.stopCapture();
    const writer: PcapngWriter = new PcapngWriter(sink, {
      session: options.session,
      maxBytes: options.maxBytes,
      onStop: (reason) => {
        this.tap.stop(writer);
        if (this.capture === writer) this.capture = undefined;
        options.onStop?.(reason);
      },
    });
    this.capture = writer;
    this.tap.start(writer);
    return writer;
  }

  stopCapture(): void {
    this.capture?.close();
  }

  /**
   * A VPN came up or went down on this computer: the remote re-routes, flows are kept, and the
   * DNS configuration is read again (in the background; a failed read keeps the last good one).
   */
  updateRoutes(routes: string[]): void {
    void this.dns.refreshDnsConfig();
    const routable = this.routable(routes);
    this.policy.setPrefixes(routable);
    this.config = { ...this.config, routes: routable, dns: this.dnsConfig(routable) };
    if (this.options.link.isOpen) this.sendConfig();
  }

  /**
   * Split DNS: this computer's domains changed (a VPN came up or went down). The remote's split
   * follows in a new CONFIG, as it follows the routes' reverse zones.
   */
  updateDnsDomains(domains: readonly string[]): void {
    if (this.dnsMode !== "split") return;
    this.dnsDomains = domains;
    this.resendDns();
  }

  /**
   * The user picked another DNS mode while connected: the agent restores the remote's resolver
   * and applies the new mode, flows kept. The stub answers in every mode (names in streams).
   */
  updateDnsMode(mode: ExitSessionOptions["dns"], domains: readonly string[]): void {
    this.dnsMode = mode;
    this.dnsDomains = domains;
    this.resendDns();
  }

  /**
   * "Allow access to this computer" changed: new flows follow it. Switched off, the flows already
   * open to this computer end too (a user who turns access off expects it to stop, not only for
   * new connections); returns how many.
   */
  setAllowLocal(allow: boolean): number {
    this.policy.setAllowLocal(allow);
    if (allow) return 0;
    return this.nat.endFlowsTo(
      (address) => this.policy.isThisComputer(address),
      "access to this computer was switched off",
    );
  }

  private resendDns(): void {
    void this.dns.refreshDnsConfig();
    const dns = this.dnsConfig(this.config.routes);
    if (JSON.stringify(dns) === JSON.stringify(this.config.dns)) return;
    this.config = { ...this.config, dns };
    if (this.options.link.isOpen) this.sendConfig();
  }

  /**
   * What the remote sends to the stub. Split: the session's domains and the reverse zones of the
   * routes (a PTR for an address reached through the link is ours); with none at all, off.
   */
  private dnsConfig(routes: readonly string[]): LinkDnsConfig {
    const servers = this.stubs;
    if (this.dnsMode === "all") return { mode: "all", servers };
    if (this.dnsMode === "off") return { mode: "off" };
    const named = this.dnsDomains.map((domain) => domain.toLowerCase().replace(/\.$/, ""));
    const domains = [...new Set([...named, ...reverseZones(routes)])];
    if (domains.length > MAX_DNS_DOMAINS)
      this.options.log?.(
        `split DNS: ${domains.length} domains and reverse zones; the first ${MAX_DNS_DOMAINS} go through the link`,
      );
    return domains.length === 0
      ? { mode: "off" }
      : { mode: "split", servers, domains: domains.slice(0, MAX_DNS_DOMAINS) };
  }

  /**
   * The prefixes the link can carry: an IPv6 prefix needs an IPv6 link subnet (`--link-subnet6
   * none` has none), an IPv4 one an IPv4 subnet. The rest is left out and said, never sent in a
   * CONFIG the agent would have to refuse.
   */
  private routable(routes: readonly string[]): string[] {
    const kept: string[] = [];
    const left: string[] = [];
    for (const route of routes) {
      const family = route.includes(":") ? 6 : 4;
      const subnet = family === 6 ? this.options.subnetV6 : this.options.subnetV4;
      (subnet === null ? left : kept).push(route);
    }
    if (left.length > 0)
      this.options.log?.(`not routing ${left.join(", ")}: the link has no subnet of that IP version`);
    return kept;
  }

  /** `--socks`: listens once the link is up (and closes with it); a failure is said, not fatal. */
  private startSocks(socks: NonNullable<ExitSessionOptions["socks"]>): Promise<SocksEntrance | null> {
    const { link, log } = this.options;
    const where = `${socks.host ?? "127.0.0.1"}:${socks.port}`;
    if (!link.reverse) {
      log?.(`--socks ${where} is off: the agent on the remote runs no exit`);
      return Promise.resolve(null);
    }
    return startSocksEntrance(
      link,
      {
        ...(socks.host === undefined ? {} : { host: socks.host }),
        port: socks.port,
        credentials: { username: socks.username, password: socks.password },
      },
      { ownerUid: this.options.socksOwnerUid, log: (line) => log?.(`socks: ${line}`) },
    ).then(
      (entrance) => {
        log?.(`socks: SOCKS5 and HTTP proxy on ${socks.host ?? "127.0.0.1"}:${entrance.port}`);
        return entrance;
      },
      (error: unknown) => {
        log?.(`--socks ${where} could not listen: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      },
    );
  }

  /** A CONFIG that still fails to encode is this side's bug: the link closes saying so. */
  private sendConfig(): void {
    const { link } = this.options;
    if (this.config.reverse && !link.reverse) {
      this.options.log?.(
        `the agent on the remote (Backhaul ${link.peer?.softwareVersion ?? "?"}) runs no exit ` +
          "(its HELLO has no Reverse capability): nothing on this computer reaches the remote's networks; " +
          "use the same Backhaul release on both sides",
      );
      const { reverse: _unread, ...config } = this.config;
      this.config = config;
    }
    try {
      this.options.link.sendConfig(this.config);
    } catch (error) {
      this.options.link.close(`the exit could not send its CONFIG: ${String(error)}`);
    }
  }
}

/** The exit side's end of a link to an agent: the capabilities every exit offers. */
export function openExitLink(stream: Duplex, keepalive: KeepaliveOptions): Link {
  return new Link(stream, {
    role: "exit",
    softwareVersion: VERSION,
    capabilities:
      Capability.Ipv6 |
      Capability.DnsStub |
      Capability.IcmpEcho |
      Capability.Stats |
      Capability.Streams |
      Capability.Diagnose |
      Capability.Reverse,
    keepaliveIntervalMs: keepalive.keepaliveIntervalMs,
    pingTimeoutMs: keepalive.pingTimeoutMs,
  });
}
