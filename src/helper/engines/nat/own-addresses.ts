/**
 * This computer's own addresses as its kernel sees them, for the egress policy: what it delivers
 * locally (unicast addresses and local prefixes), its broadcast addresses, and IPv6 subnet-router
 * anycast addresses. os.networkInterfaces() alone misses interfaces that are up without carrier
 * (docker0 with no container still answers at 172.17.0.1), so each OS's own view is read too
 * (own-addresses-PLATFORM.ts, chosen in system-own-addresses.ts) and joined with it.
 */
import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";

export interface OwnAddresses {
  /** Delivered to this computer: addresses, or CIDR prefixes (a local route covering a range). */
  local: readonly string[];
  /** Broadcast addresses of this computer's subnets: never a unicast destination. */
  broadcast: readonly string[];
  /** IPv6 subnet-router anycast addresses (each on-link prefix with its host part zero). */
  anycast: readonly string[];
}

export const NO_OWN_ADDRESSES: OwnAddresses = { local: [], broadcast: [], anycast: [] };

/**
 * The subnet-router anycast address of `address`/`prefixLength` (RFC 4291 §2.6.1), or undefined
 * where there is none: IPv4, /127 and /128, link-local, multicast, loopback, unspecified.
 */
export function subnetRouterAnycast(address: string, prefixLength: number): string | undefined {
  if (!ipaddr.IPv6.isValid(address) || prefixLength >= 127 || prefixLength < 0) return undefined;
  const parsed = ipaddr.IPv6.parse(address);
  if (parsed.range() !== "unicast" && parsed.range() !== "uniqueLocal" && parsed.range() !== "reserved") {
    return undefined;
  }
  const bytes = parsed.toByteArray();
  for (let bit = prefixLength; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return ipaddr.fromByteArray(bytes).toString();
}

/** The directed broadcast address of `address` with `prefixLength` bits of network (IPv4 up to /30). */
export function directedBroadcast(address: string, prefixLength: number): string | undefined {
  if (!ipaddr.IPv4.isValid(address) || prefixLength > 30 || prefixLength < 1) return undefined;
  const bytes = ipaddr.IPv4.parse(address).toByteArray();
  for (let bit = prefixLength; bit < 32; bit++) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return ipaddr.fromByteArray(bytes).toString();
}

/** What os.networkInterfaces() lists: the interfaces that are up and running. */
export function interfaceAddresses(): OwnAddresses {
  const local: string[] = [];
  const broadcast: string[] = [];
  const anycast: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const address = info.address.replace(/%.*$/, "");
      local.push(address);
      const prefixLength = Number(info.cidr?.split("/")[1]);
      if (!Number.isInteger(prefixLength)) continue;
      const extra =
        info.family === "IPv4"
          ? directedBroadcast(address, prefixLength)
          : subnetRouterAnycast(address, prefixLength);
      if (extra) (info.family === "IPv4" ? broadcast : anycast).push(extra);
    }
  }
  return { local, broadcast, anycast };
}

export function joinOwnAddresses(...sets: readonly OwnAddresses[]): OwnAddresses {
  return {
    local: sets.flatMap((set) => set.local),
    broadcast: sets.flatMap((set) => set.broadcast),
    anycast: sets.flatMap((set) => set.anycast),
  };
}
