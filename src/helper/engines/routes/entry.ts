// Helpers the per-OS parsers share to turn an OS's way of writing a route into a RouteEntry.
import { addressWidth, formatAddress, formatPrefix, parseAddress, prefixOf } from "./cidr.js";
import type { Prefix } from "./cidr.js";
import type { RouteEntry, RouteSource } from "./types.js";

export function makeEntry(
  prefix: Prefix,
  iface: string | null,
  gateway: string | null,
  source: RouteSource,
): RouteEntry {
  return { prefix: formatPrefix(prefix), family: prefix.family, interface: iface, gateway, source };
}

/** Drops an IPv6 zone ("fe80::1%en0" → "fe80::1"): the entry's interface already says it. */
export function withoutZone(address: string): string {
  const percent = address.indexOf("%");
  return percent < 0 ? address : address.slice(0, percent);
}

/**
 * A next hop in canonical form, or null when the text is no address (macOS "link#6", a MAC,
 * Windows "On-link") or is the unspecified address that Windows writes for on-link routes.
 */
export function gatewayAddress(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const parsed = parseAddress(withoutZone(text));
  if (parsed === null || parsed.value === 0n) return null;
  return formatAddress(parsed.value, parsed.family);
}

/**
 * A destination written as an address and an optional length ("10.8.0.1", "10.0.0.0/8",
 * "fe80::%utun0/64"); no length means a host route. Null when it is not of `family`.
 */
export function destinationPrefix(text: string, family: 4 | 6): Prefix | null {
  const slash = text.lastIndexOf("/");
  const address = withoutZone(slash < 0 ? text : text.slice(0, slash));
  const lengthText = slash < 0 ? String(addressWidth(family)) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return null;
  const prefix = prefixOf(address, Number(lengthText));
  return prefix !== null && prefix.family === family ? prefix : null;
}

export function defaultPrefix(family: 4 | 6): Prefix {
  return { family, network: 0n, length: 0 };
}
