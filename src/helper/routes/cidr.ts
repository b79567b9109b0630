// Prefix arithmetic on bigints: parsing and formatting go through ipaddr.js, the set operations
// (containment, subtraction, ordering) are a few lines of integer math that ipaddr.js lacks.
import ipaddr from "ipaddr.js";
import { CidrError } from "./errors.js";

export interface Prefix {
  readonly family: 4 | 6;
  /** The network address as an integer, host bits clear. */
  readonly network: bigint;
  readonly length: number;
}

const WIDTH = { 4: 32, 6: 128 } as const;

export function addressWidth(family: 4 | 6): number {
  return WIDTH[family];
}

/** Parses a bare address in its usual text form (four-part decimal IPv4, zone-free IPv6). */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } | null {
  let family: 4 | 6;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) family = 4;
  else if (!text.includes("%") && ipaddr.IPv6.isValid(text)) family = 6;
  else return null;
  let value = 0n;
  for (const byte of ipaddr.parse(text).toByteArray()) value = (value << 8n) | BigInt(byte);
  return { family, value };
}

export function formatAddress(value: bigint, family: 4 | 6): string {
  const bytes: number[] = [];
  let rest = value;
  for (let i = 0; i < WIDTH[family] / 8; i++) {
    bytes.unshift(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

function hostMask(family: 4 | 6, length: number): bigint {
  return (1n << BigInt(WIDTH[family] - length)) - 1n;
}

/**
 * Strict parse of user input: "10.0.0.0/8", "2001:db8::/32", or a bare address (a host prefix).
 * Host bits must be clear: "10.1.2.3/8" is more likely a typo than a wish for 10.0.0.0/8.
 */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (address === null) {
    const hint = addressText.includes("%") ? " (zone indexes such as %en0 are not allowed)" : "";
    throw new CidrError(text, `${JSON.stringify(addressText)} is not an IPv4 or IPv6 address${hint}`);
  }
  const width = WIDTH[address.family];
  let length: number = width;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lengthText)) throw new CidrError(text, `the prefix length must be a number`);
    length = Number(lengthText);
    if (length > width) {
      throw new CidrError(
        text,
        `the prefix length ${length} is over ${width}, the IPv${address.family} maximum`,
      );
    }
  }
  const network = address.value & ~hostMask(address.family, length);
  if (network !== address.value) {
    const suggestion = formatPrefix({ family: address.family, network, length });
    throw new CidrError(text, `host bits are set after /${length} (did you mean ${suggestion}?)`);
  }
  return { family: address.family, network, length };
}

/** The prefix of `length` bits that holds `address`: for OS output, where host bits may be set. */
export function prefixOf(address: string, length: number): Prefix | null {
  const parsed = parseAddress(address);
  if (parsed === null || !Number.isInteger(length) || length < 0 || length > WIDTH[parsed.family]) {
    return null;
  }
  const network = parsed.value & ~hostMask(parsed.family, length);
  return { family: parsed.family, network, length };
}

export function formatPrefix(prefix: Prefix): string {
  return `${formatAddress(prefix.network, prefix.family)}/${prefix.length}`;
}

export function lastAddress(prefix: Prefix): bigint {
  return prefix.network | hostMask(prefix.family, prefix.length);
}

export function containsAddress(prefix: Prefix, family: 4 | 6, address: bigint): boolean {
  return prefix.family === family && (address & ~hostMask(family, prefix.length)) === prefix.network;
}

/** True when `outer` holds every address of `inner` (a prefix contains itself). */
export function containsPrefix(outer: Prefix, inner: Prefix): boolean {
  return outer.length <= inner.length && containsAddress(outer, inner.family, inner.network);
}

/** Two prefixes overlap exactly when one contains the other. */
export function overlaps(a: Prefix, b: Prefix): boolean {
  return containsPrefix(a, b) || containsPrefix(b, a);
}

/** IPv4 first, then by network address, then wider first (so containers precede contents). */
export function comparePrefixes(a: Prefix, b: Prefix): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.length - b.length;
}

/**
 * `from` without the addresses of `hole`, as the fewest prefixes that cover the rest: walking
 * from `from` down to `hole`, each step keeps the half that does not hold the hole.
 */
export function subtractPrefix(from: Prefix, hole: Prefix): Prefix[] {
  if (from.family !== hole.family || !overlaps(from, hole)) return [from];
  if (containsPrefix(hole, from)) return [];
  const kept: Prefix[] = [];
  let current = from;
  while (current.length < hole.length) {
    const length = current.length + 1;
    const lower: Prefix = { family: from.family, network: current.network, length };
    const upperBit = 1n << BigInt(WIDTH[from.family] - length);
    const upper: Prefix = { family: from.family, network: current.network | upperBit, length };
    if (containsPrefix(lower, hole)) {
      kept.push(upper);
      current = lower;
    } else {
      kept.push(lower);
      current = upper;
    }
  }
  return kept.sort(comparePrefixes);
}

/** Every prefix of `from` minus every hole; the result is sorted and free of overlaps if `from` is. */
export function subtractAll(from: readonly Prefix[], holes: readonly Prefix[]): Prefix[] {
  let pieces = [...from];
  for (const hole of holes) pieces = pieces.flatMap((piece) => subtractPrefix(piece, hole));
  return pieces.sort(comparePrefixes);
}
