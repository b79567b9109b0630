/**
 * A name from a stream's STREAM_OPEN (a proxy's socks5h or HTTP request) resolved by the DNS
 * engine, as the remote's own queries are: A and AAAA are asked as two queries of transport
 * "stream", so both appear in the DNS table and share its cache and resolvers.
 */
import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import { decode, encode, type DecodedPacket } from "dns-packet";
import type { DnsEngine } from "./engine.js";

export type NameLookup =
  /** IPv4 answers first, then IPv6, in the order the resolver gave them. */
  | { kind: "addresses"; addresses: string[] }
  /** NXDOMAIN, or no address of either family. */
  | { kind: "not-found" }
  /** No usable answer (SERVFAIL, an overloaded engine, a name that cannot be asked). */
  | { kind: "failed"; detail: string };

export type NameResolver = (name: string) => Promise<NameLookup>;

const MAX_NAME_LENGTH = 253;

export function dnsNameResolver(engine: DnsEngine): NameResolver {
  return async (name) => {
    if (isIP(name) !== 0) return { kind: "addresses", addresses: [name] };
    // Names in Unicode are asked as IDNA A-labels; "" means the name cannot be one.
    const ascii = domainToASCII(name.endsWith(".") ? name.slice(0, -1) : name);
    if (
      ascii === "" ||
      ascii.length > MAX_NAME_LENGTH ||
      ascii.split(".").some((l) => l.length === 0 || l.length > 63)
    ) {
      return { kind: "not-found" };
    }
    const [v4, v6] = await Promise.all([ask(engine, ascii, "A"), ask(engine, ascii, "AAAA")]);
    const addresses = [...v4.addresses, ...v6.addresses];
    if (addresses.length > 0) return { kind: "addresses", addresses };
    if (
      v4.rcode === "NXDOMAIN" ||
      v6.rcode === "NXDOMAIN" ||
      (v4.rcode === "NOERROR" && v6.rcode === "NOERROR")
    ) {
      return { kind: "not-found" };
    }
    return { kind: "failed", detail: `${v4.rcode} for A, ${v6.rcode} for AAAA` };
  };
}

async function ask(
  engine: DnsEngine,
  name: string,
  type: "A" | "AAAA",
): Promise<{ rcode: string; addresses: string[] }> {
  const query = encode({
    type: "query",
    id: (Math.random() * 0x10000) >>> 0,
    flags: 0x0100, // recursion desired
    questions: [{ name, type, class: "IN" }],
  });
  const answer = await engine.handleQuery(query, "stream");
  if (answer === null) return { rcode: "no answer", addresses: [] };
  let decoded: DecodedPacket;
  try {
    decoded = decode(answer);
  } catch {
    return { rcode: "malformed answer", addresses: [] };
  }
  const addresses: string[] = [];
  for (const record of decoded.answers) {
    if (record.type === type && "data" in record && typeof record.data === "string")
      addresses.push(record.data);
  }
  return { rcode: decoded.rcode, addresses };
}
