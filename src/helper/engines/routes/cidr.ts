// Prefix arithmetic on bigints: parsing and formatting are shared/ip-prefix.ts's (ipaddr.js), the
// set operations (containment, subtraction, ordering) are a few lines of integer math that
// ipaddr.js lacks.
import {
  ADDRESS_BITS,
  formatAddress as formatAddressBytes,
  parseAddress as parseAddressBytes,
  parsePrefix as parsePrefixText,
  type IpFamily,
} from "../../../shared/ip-prefix.js";
import { CidrError } from "./errors.js";

export interface Prefix {
  readonly family: IpFamily;
  /** The network address as an integer, host bits clear. */
  readonly network: bigint;
  readonly length: number;
}

const WIDTH = ADDRESS_BITS;

export function addressWidth(family: IpFamily): number {
  return WIDTH[family];
}

/** A bare address as an integer; null unless it is in its usual text form (shared/ip-prefix.ts). */
export function parseAddress(text: string): { family: IpFamily; value: bigint } | null {
  const address = parseAddressBytes(text);
  return address === null ? null : { family: address.family, value: valueOf(address.bytes) };
}

function valueOf(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

export function formatAddress(value: bigint, family: IpFamily): string {
  const bytes = new Uint8Array(WIDTH[family] / 8);
  let rest = value;
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return formatAddressBytes(bytes);
}

function hostMask(family: IpFamily, length: number): bigint {
  return (1n << BigInt(WIDTH[family] - length)) - 1n;
}

/**
 * Strict parse of user input: "10.0.0.0/8", "2001:db8::/32", or a bare address (a host prefix).
 * Host bits must be clear: "10.1.2.3/8" is more likely a typo than a wish for 10.0.0.0/8.
 */
export function parsePrefix(text: string): Prefix {
  const parsed = parsePrefixText(text, { bareIsHost: true });
  if (!parsed.ok) throw new CidrError(text, parsed.problem);
  const { family, length, bytes } = parsed.prefix;
  const network = valueOf(bytes) & ~hostMask(family, length);
  if (!parsed.prefix.hostBitsClear) {
    const suggestion = formatPrefix({ family, network, length });
    throw new CidrError(text, `host bits are set after /${length} (did you mean ${suggestion}?)`);
  }
  return { family, network, length };
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

export function containsAddress(prefix: Prefix, family: IpFamily, address: bigint): boolean {
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
