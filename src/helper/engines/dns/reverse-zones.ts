// The reverse-lookup zones of advertised prefixes, for split DNS: a PTR for an address the remote
// reaches through the link is this computer's to answer. Reverse names are cut on octet
// (in-addr.arpa) and nibble (ip6.arpa) boundaries, so a prefix between two boundaries becomes the
// zones one boundary down that together cover exactly it: 198.18.0.0/15 is 18.198.in-addr.arpa
// and 19.198.in-addr.arpa, never the whole of 198.in-addr.arpa (the remote's own neighbours).
import { parsePrefix, type Prefix } from "../routes/cidr.js";

function zonesOf(prefix: Prefix): string[] {
  const v4 = prefix.family === 4;
  const step = v4 ? 8 : 4;
  const width = v4 ? 32 : 128;
  const apex = v4 ? "in-addr.arpa" : "ip6.arpa";
  // A default route: every reverse name of that family is ours.
  if (prefix.length === 0) return [apex];
  const boundary = Math.ceil(prefix.length / step) * step;
  // At most 2^(step-1) zones: 128 for an IPv4 /1 (or /9, /17, /25), 8 for IPv6.
  const count = 1 << (boundary - prefix.length);
  const zones: string[] = [];
  for (let index = 0; index < count; index++) {
    const network = prefix.network + (BigInt(index) << BigInt(width - boundary));
    const labels: string[] = [];
    for (let bit = width - step; bit >= width - boundary; bit -= step)
      labels.push(((network >> BigInt(bit)) & BigInt((1 << step) - 1)).toString(v4 ? 10 : 16));
    zones.push(`${labels.reverse().join(".")}.${apex}`);
  }
  return zones;
}

/**
 * The reverse zones covering `prefixes` (CIDR, host bits clear), without duplicates and without a
 * zone inside another one. A prefix that does not parse is left out.
 */
export function reverseZones(prefixes: readonly string[]): string[] {
  const all = new Set<string>();
  for (const text of prefixes) {
    let prefix: Prefix;
    try {
      prefix = parsePrefix(text);
    } catch {
      continue;
    }
    for (const zone of zonesOf(prefix)) all.add(zone);
  }
  return [...all].filter((zone) => {
    for (let dot = zone.indexOf("."); dot !== -1; dot = zone.indexOf(".", dot + 1)) {
      const parent = zone.slice(dot + 1);
      if (all.has(parent)) return false;
    }
    return true;
  });
}
