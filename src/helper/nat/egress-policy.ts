import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";

/** Why a destination is refused; shown in the NAT table's close reason. */
export type RefusalReason = "not-advertised" | "not-unicast" | "loopback" | "link-local" | "this-computer";

export type EgressDecision = { allowed: true } | { allowed: false; reason: RefusalReason };

export interface EgressPolicyOptions {
  /** The advertised prefixes (CIDR): the only destinations the remote may reach. */
  prefixes: readonly string[];
  /** "Allow access to this computer": loopback, link-local and own addresses become reachable. */
  allowLocal: boolean;
  /** This computer's own addresses; os.networkInterfaces() unless given (tests). */
  localAddresses?: () => readonly string[];
}

const LOCAL_ADDRESSES_TTL_MS = 1_000;

/**
 * What the remote, the less trusted side, may reach through this computer (DESIGN.md
 * "Processes and trust"). Decided once per new flow, not per packet.
 */
export class EgressPolicy {
  private prefixes: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  private allowLocal: boolean;
  private readonly localAddresses: () => readonly string[];
  private localCache: { at: number; set: Set<string> } | undefined;

  constructor(options: EgressPolicyOptions) {
    this.allowLocal = options.allowLocal;
    this.localAddresses = options.localAddresses ?? systemAddresses;
    this.setPrefixes(options.prefixes);
  }

  /** Routes change (a VPN comes up): new flows follow at once, existing ones are kept. */
  setPrefixes(prefixes: readonly string[]): void {
    this.prefixes = prefixes.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  setAllowLocal(allow: boolean): void {
    this.allowLocal = allow;
  }

  check(address: Uint8Array): EgressDecision {
    let addr: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.fromByteArray(Array.from(address));
    // ::ffff:127.0.0.1 is loopback too: judge mapped addresses as the IPv4 they are.
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    }
    const range = addr.range();
    if (range === "unspecified" || range === "multicast" || range === "broadcast") {
      return { allowed: false, reason: "not-unicast" };
    }
    if (range === "loopback" || range === "linkLocal" || this.isOwnAddress(addr)) {
      if (!this.allowLocal) {
        return {
          allowed: false,
          reason: range === "loopback" ? "loopback" : range === "linkLocal" ? "link-local" : "this-computer",
        };
      }
      return { allowed: true };
    }
    for (const [network, bits] of this.prefixes) {
      if (network.kind() === addr.kind() && addr.match(network, bits)) return { allowed: true };
    }
    return { allowed: false, reason: "not-advertised" };
  }

  private isOwnAddress(addr: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    const now = Date.now();
    if (!this.localCache || now - this.localCache.at > LOCAL_ADDRESSES_TTL_MS) {
      const set = new Set<string>();
      for (const text of this.localAddresses()) {
        if (ipaddr.isValid(text)) set.add(ipaddr.process(text).toNormalizedString());
      }
      this.localCache = { at: now, set };
    }
    return this.localCache.set.has(addr.toNormalizedString());
  }
}

function systemAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) out.push(info.address.replace(/%.*$/, ""));
  }
  return out;
}
