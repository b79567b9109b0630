import { formatAddress, parsePrefix } from "./ip-prefix.js";

export interface LinkAddresses {
  /** The entrance's TUN address with the subnet's prefix length, e.g. "198.18.0.1/30". */
  tun: string;
  /** The DNS stub: the address the exit answers DNS on, e.g. "198.18.0.2". */
  stub: string;
}

/** The two addresses both sides derive from a link subnet: its first and second host. */
export function linkAddresses(subnet: string): LinkAddresses {
  const parsed = parsePrefix(subnet);
  if (!parsed.ok) throw new TypeError(`not a link subnet: ${JSON.stringify(subnet)}: ${parsed.problem}`);
  const { bytes, length } = parsed.prefix;
  const nth = (n: number): string => {
    const out = [...bytes];
    let carry = n;
    for (let i = out.length - 1; i >= 0 && carry > 0; i--) {
      const sum = out[i]! + carry;
      out[i] = sum & 0xff;
      carry = sum >> 8;
    }
    return formatAddress(out);
  };
  return { tun: `${nth(1)}/${length}`, stub: nth(2) };
}
