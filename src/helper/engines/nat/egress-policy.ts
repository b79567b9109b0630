import ipaddr from "ipaddr.js";
import type { OwnAddresses } from "./own-addresses.js";
import { systemOwnAddresses } from "./system-own-addresses.js";

/** Why a destination is refused; shown in the NAT table's close reason. */
export type RefusalReason = "not-advertised" | "not-unicast" | "loopback" | "link-local" | "this-computer";

export type EgressDecision = { allowed: true } | { allowed: false; reason: RefusalReason };

export interface EgressPolicyOptions {
  /** The advertised prefixes (CIDR): the only destinations the remote may reach. */
  prefixes: readonly string[];
  /** "Allow access to this computer": loopback, link-local and own addresses become reachable. */
  allowLocal: boolean;
  /** This computer's own addresses as its kernel sees them; the OS's own view unless given. */
  ownAddresses?: () => OwnAddresses;
  /** Only a list of own unicast addresses (tests, diagnostics); ownAddresses wins. */
  localAddresses?: () => readonly string[];
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** OwnAddresses parsed once per refresh: exact addresses in sets, local ranges as prefixes. */
interface OwnAddressCache {
  at: number;
  local: Set<string>;
  localPrefixes: Array<[Address, number]>;
  broadcast: Set<string>;
  anycast: Set<string>;
}

const LOCAL_ADDRESSES_TTL_MS = 1_000;

/**
 * What the remote, the less trusted side, may reach through this computer (DESIGN.md
 * "Processes and trust"). Decided once per new flow, not per packet.
 */
export class EgressPolicy {
  private prefixes: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  private allowLocal: boolean;
  private readonly ownAddresses: () => OwnAddresses;
  private ownCache: OwnAddressCache | undefined;

  constructor(options: EgressPolicyOptions) {
    this.allowLocal = options.allowLocal;
    const list = options.localAddresses;
    this.ownAddresses =
      options.ownAddresses ??
      (list ? () => ({ local: list(), broadcast: [], anycast: [] }) : systemOwnAddresses());
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
    const { addr, kind } = this.classify(address);
    if (kind === "not-unicast") return { allowed: false, reason: "not-unicast" };
    if (kind !== null) return this.allowLocal ? { allowed: true } : { allowed: false, reason: kind };
    for (const [network, bits] of this.prefixes) {
      if (network.kind() === addr.kind() && addr.match(network, bits)) return { allowed: true };
    }
    return { allowed: false, reason: "not-advertised" };
  }

  /**
   * Whether `address` is this computer itself (its loopback, link-local or own addresses): what
   * "allow access to this computer" opens, whatever it is set to now.
   */
  isThisComputer(address: Uint8Array): boolean {
    const { kind } = this.classify(address);
    return kind !== null && kind !== "not-unicast";
  }

  /** The address (IPv4-mapped read as IPv4), and whether it is not unicast or this computer's (how). */
  private classify(address: Uint8Array): {
    addr: Address;
    kind: Exclude<RefusalReason, "not-advertised"> | null;
  } {
    let addr: Address = ipaddr.fromByteArray(Array.from(address));
    // ::ffff:127.0.0.1 is loopback too: judge mapped addresses as the IPv4 they are.
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    }
    const range = addr.range();
    const own = this.own();
    const text = addr.toNormalizedString();
    // A subnet's broadcast reaches every host on it (and fails connect() with EACCES): never a flow.
    if (
      range === "unspecified" ||
      range === "multicast" ||
      range === "broadcast" ||
      own.broadcast.has(text)
    ) {
      return { addr, kind: "not-unicast" };
    }
    if (range === "loopback") return { addr, kind: "loopback" };
    if (range === "linkLocal") return { addr, kind: "link-local" };
    if (isOwn(own, addr, text)) return { addr, kind: "this-computer" };
    return { addr, kind: null };
  }

  private own(): OwnAddressCache {
    const now = Date.now();
    if (!this.ownCache || now - this.ownCache.at > LOCAL_ADDRESSES_TTL_MS) {
      const own = this.ownAddresses();
      const cache: OwnAddressCache = {
        at: now,
        local: new Set(),
        localPrefixes: [],
        broadcast: normalized(own.broadcast),
        anycast: normalized(own.anycast),
      };
      for (const text of own.local) {
        if (ipaddr.isValid(text)) cache.local.add(ipaddr.process(text).toNormalizedString());
        else if (ipaddr.isValidCIDR(text)) cache.localPrefixes.push(ipaddr.parseCIDR(text));
      }
      this.ownCache = cache;
    }
    return this.ownCache;
  }
}

/** Delivered to this computer: one of its addresses, a local route's range, or an anycast address. */
function isOwn(own: OwnAddressCache, addr: Address, text: string): boolean {
  if (own.local.has(text) || own.anycast.has(text)) return true;
  return own.localPrefixes.some(
    ([network, bits]) => network.kind() === addr.kind() && addr.match(network, bits),
  );
}

function normalized(addresses: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const text of addresses) {
    if (ipaddr.isValid(text)) set.add(ipaddr.process(text).toNormalizedString());
  }
  return set;
}
