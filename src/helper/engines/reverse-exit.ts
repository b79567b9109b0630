/**
 * The agent's exit (link protocol revision 2, the reverse direction): traffic that entered on
 * this computer (`--socks` streams, REVERSE_PACKETS from its TUN) leaves from the remote's own
 * sockets, through the same NAT engine the local helper runs, with the same egress policy turned
 * round: only the prefixes the user chose (every destination when none), and the remote itself
 * (its loopback, link-local and own addresses) only with `--allow-remote-local`. Names resolve
 * with the DNS engine the caller gives (the agent's: the remote's own resolvers). Its NAT table
 * goes to this computer in FLOWS frames, at most one a second.
 */
import type { FlowRow, TableDelta } from "../../shared/flow-row.js";
import { MAX_FLOWS_PER_FRAME } from "../../shared/flows-frame.js";
import type { LinkConfig, ReverseExitConfig } from "../../shared/link-protocol.js";
import type { DnsEngine } from "./dns/index.js";
import { startExitEngines } from "./exit.js";
import type { Link } from "./link/link.js";
import ipaddr from "ipaddr.js";
import { EgressPolicy, type EgressDecision } from "./nat/egress-policy.js";
import type { NatEngine, NatEngineOptions } from "./nat/engine.js";
import { FlowTable } from "./nat/flow-table.js";
import { reverseLinkPort } from "./port/reverse-link-port.js";

/** Every destination, for a reverse config without routes (`--socks` alone). */
export const EVERY_DESTINATION = ["0.0.0.0/0", "::/0"];
export const FLOWS_INTERVAL_MS = 1_000;

export interface ReverseExitOptions {
  link: Link;
  /** The CONFIG that carried `reverse`: its link subnets give the stub and this computer's address. */
  config: LinkConfig & { reverse: ReverseExitConfig };
  /** Resolves the names of streams and the stub's queries: the remote's own resolvers. */
  dns: DnsEngine;
  icmp?: NatEngineOptions["icmp"];
  log?: (line: string) => void;
  flowsIntervalMs?: number;
}

export class ReverseExit {
  readonly nat: NatEngine;
  private readonly policy: ReverseEgressPolicy;

  constructor(options: ReverseExitOptions) {
    const { link, config, dns } = options;
    const reverse = config.reverse;
    this.policy = new ReverseEgressPolicy({ prefixes: prefixesOf(reverse), allowLocal: reverse.allowLocal });
    this.nat = startExitEngines({
      link,
      port: reverseLinkPort(link),
      subnets: config,
      dns,
      answerAtStub: reverse.dns,
      entranceName: "this computer",
      nat: {
        policy: this.policy,
        linkMtu: config.mtu,
        icmp: options.icmp,
        log: options.log,
        table: new FlowTable({ direction: "local-to-remote" }),
      },
    }).nat;
    const stopFlows = publishFlows(link, this.nat.table, options.flowsIntervalMs ?? FLOWS_INTERVAL_MS);
    link.once("close", () => {
      stopFlows();
      this.nat.close("link closed");
      dns.close();
    });
  }

  /** A later CONFIG: new flows follow the new policy, open ones are kept. */
  update(config: { reverse: ReverseExitConfig }): void {
    this.policy.setPrefixes(prefixesOf(config.reverse));
    this.policy.setAllowLocal(config.reverse.allowLocal);
  }

  /**
   * The prefixes the agent's TUN entrance routes into the link now, less the remote's own networks
   * inside them that keep their interface: destinations there are refused (ReverseEgressPolicy).
   */
  setTunRoutes(routes: readonly { prefix: string; keptLocal: readonly { prefix: string }[] }[]): void {
    this.policy.setTunRoutes(routes);
  }
}

/**
 * The agent's egress policy: also never a destination the agent's TUN entrance routes into the
 * link (the forward direction's routes, less the remote's own networks inside them). Such a flow
 * would leave the remote through the link, back to this computer's exit: at best a detour, and
 * with a `--remote-route` over the same prefix, a loop in which each NAT makes the packets anew.
 */
class ReverseEgressPolicy extends EgressPolicy {
  private intoTun: Array<{ prefix: Cidr; kept: Cidr[] }> = [];

  setTunRoutes(routes: readonly { prefix: string; keptLocal: readonly { prefix: string }[] }[]): void {
    this.intoTun = routes.map((route) => ({
      prefix: ipaddr.parseCIDR(route.prefix),
      kept: route.keptLocal.map((network) => ipaddr.parseCIDR(network.prefix)),
    }));
  }

  override check(address: Uint8Array): EgressDecision {
    if (this.intoTun.length > 0) {
      let parsed: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.fromByteArray(Array.from(address));
      if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress()) parsed = parsed.toIPv4Address();
      const inside = (cidr: Cidr): boolean => cidr[0].kind() === parsed.kind() && parsed.match(cidr);
      if (this.intoTun.some((route) => inside(route.prefix) && !route.kept.some(inside)))
        return { allowed: false, reason: "not-advertised" };
    }
    return super.check(address);
  }
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

function prefixesOf(reverse: ReverseExitConfig): readonly string[] {
  return reverse.routes.length > 0 ? reverse.routes : EVERY_DESTINATION;
}

/**
 * Sends the table's deltas as FLOWS frames, merged over `intervalMs` (the latest copy of a row
 * wins; a row removed before it went out is never sent). Returns how to stop.
 */
export function publishFlows(link: Link, table: FlowTable, intervalMs: number): () => void {
  const upserts = new Map<number, FlowRow>();
  const removals = new Set<number>();
  const unsubscribe = table.subscribe((delta) => {
    for (const row of delta.upserts) {
      upserts.set(row.id, row);
      removals.delete(row.id);
    }
    for (const id of delta.removals) {
      if (!upserts.delete(id)) removals.add(id);
    }
  });
  const timer = setInterval(() => {
    if (!link.isOpen || (upserts.size === 0 && removals.size === 0)) return;
    let delta: TableDelta<FlowRow> = { upserts: [], removals: [] };
    const flush = (): void => {
      link.sendFlows(delta);
      delta = { upserts: [], removals: [] };
    };
    // Each frame holds at most MAX_FLOWS_PER_FRAME rows and removals together.
    for (const id of removals) {
      delta.removals.push(id);
      if (delta.removals.length === MAX_FLOWS_PER_FRAME) flush();
    }
    for (const row of upserts.values()) {
      delta.upserts.push(row);
      if (delta.upserts.length + delta.removals.length === MAX_FLOWS_PER_FRAME) flush();
    }
    if (delta.upserts.length + delta.removals.length > 0) flush();
    upserts.clear();
    removals.clear();
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
