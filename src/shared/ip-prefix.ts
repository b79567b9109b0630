/**
 * IP addresses and prefixes in their text forms, for every process, through ipaddr.js. Strict on
 * purpose, as these strings end up in `ip route` commands and in the link's CONFIG: IPv4 only as
 * four decimal parts without leading zeros ("10.1" and "010.0.0.1" are refused), IPv6 in the
 * RFC 4291 forms without a zone index ("fe80::1%en0" is refused), a prefix length as a plain
 * decimal ("/08" is refused). Arithmetic on prefixes (containment, subtraction) is
 * helper/engines/routes/cidr.ts's.
 */
import ipaddr from "ipaddr.js";

export type IpFamily = 4 | 6;

/** Bits in an address of each family. */
export const ADDRESS_BITS = { 4: 32, 6: 128 } as const;

export interface ParsedAddress {
  family: IpFamily;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface ParsedPrefix extends ParsedAddress {
  /** The address as written: host bits may be set (see hostBitsClear). */
  length: number;
  hostBitsClear: boolean;
}

/** A prefix, or why the text is not one, said for a user. */
export type PrefixResult = { ok: true; prefix: ParsedPrefix } | { ok: false; problem: string };

const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;

/** A bare address in its usual text form; null for anything else. */
export function parseAddress(text: string): ParsedAddress | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { family: 4, bytes: toBytes(text) };
  if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return null;
  // ipaddr.js takes leading zeros in an embedded IPv4 part ("::ffff:01.2.3.4"); we do not.
  if (text.includes(".") && !ipaddr.IPv4.isValidFourPartDecimal(text.slice(text.lastIndexOf(":") + 1))) {
    return null;
  }
  return { family: 6, bytes: toBytes(text) };
}

/** An address of 4 or 16 bytes in its shortest text form (RFC 5952 for IPv6). */
export function formatAddress(bytes: Uint8Array | readonly number[]): string {
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

/**
 * "10.0.0.0/8" or "2001:db8::/32"; with `bareIsHost`, a bare address too, as a host prefix (/32,
 * /128). Host bits are reported, not refused: whether they matter is the caller's to say.
 */
export function parsePrefix(text: string, options: { bareIsHost?: boolean } = {}): PrefixResult {
  const slash = text.indexOf("/");
  if (slash < 0 && !options.bareIsHost) return { ok: false, problem: "it has no prefix length (/N)" };
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (address === null) {
    const hint = addressText.includes("%") ? " (zone indexes such as %en0 are not allowed)" : "";
    return { ok: false, problem: `${JSON.stringify(addressText)} is not an IPv4 or IPv6 address${hint}` };
  }
  const width = ADDRESS_BITS[address.family];
  let length: number = width;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    if (!PREFIX_LENGTH.test(lengthText)) return { ok: false, problem: "the prefix length must be a number" };
    length = Number(lengthText);
    if (length > width) {
      return {
        ok: false,
        problem: `the prefix length ${length} is over ${width}, the IPv${address.family} maximum`,
      };
    }
  }
  return { ok: true, prefix: { ...address, length, hostBitsClear: hostBitsClear(address.bytes, length) } };
}

/** The prefix's network in canonical form: host bits cleared, the shortest address form ("10.1.0.0/16"). */
export function formatNetwork(prefix: ParsedPrefix): string {
  const network = Uint8Array.from(prefix.bytes);
  for (let bit = prefix.length; bit < network.length * 8; bit++) {
    network[bit >> 3] = (network[bit >> 3] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return `${formatAddress(network)}/${prefix.length}`;
}

function toBytes(text: string): Uint8Array {
  return Uint8Array.from(ipaddr.parse(text).toByteArray());
}

function hostBitsClear(bytes: Uint8Array, length: number): boolean {
  for (let bit = length; bit < bytes.length * 8; bit++) {
    if ((((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) !== 0) return false;
  }
  return true;
}
