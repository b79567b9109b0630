/** Mnemonics for record types and response codes, for the table (IANA DNS parameters). */

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, "A"],
  [2, "NS"],
  [5, "CNAME"],
  [6, "SOA"],
  [10, "NULL"],
  [12, "PTR"],
  [13, "HINFO"],
  [15, "MX"],
  [16, "TXT"],
  [17, "RP"],
  [18, "AFSDB"],
  [28, "AAAA"],
  [29, "LOC"],
  [33, "SRV"],
  [35, "NAPTR"],
  [37, "CERT"],
  [39, "DNAME"],
  [41, "OPT"],
  [43, "DS"],
  [44, "SSHFP"],
  [46, "RRSIG"],
  [47, "NSEC"],
  [48, "DNSKEY"],
  [50, "NSEC3"],
  [51, "NSEC3PARAM"],
  [52, "TLSA"],
  [53, "SMIMEA"],
  [59, "CDS"],
  [60, "CDNSKEY"],
  [61, "OPENPGPKEY"],
  [64, "SVCB"],
  [65, "HTTPS"],
  [99, "SPF"],
  [251, "IXFR"],
  [252, "AXFR"],
  [255, "ANY"],
  [256, "URI"],
  [257, "CAA"],
]);

/** "A", "HTTPS"; RFC 3597's "TYPE65280" for a type without a mnemonic. */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

const RCODE_NAMES = [
  "NOERROR",
  "FORMERR",
  "SERVFAIL",
  "NXDOMAIN",
  "NOTIMP",
  "REFUSED",
  "YXDOMAIN",
  "YXRRSET",
  "NXRRSET",
  "NOTAUTH",
  "NOTZONE",
];

/** Extended RCODEs (RFC 6891) arrive as 12-bit values; 16 is BADVERS. */
export function rcodeName(rcode: number): string {
  if (rcode === 16) return "BADVERS";
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}
