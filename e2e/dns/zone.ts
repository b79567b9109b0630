/**
 * The private zone S serves with dnsmasq in authoritative mode (auth-zone), which is what lets it
 * serve SOA and NS for the zone and an SOA with every negative answer. Every record type dnsmasq
 * can serve is here: A, AAAA, CNAME, MX, SRV, TXT, PTR (reverse zones from host-record), NAPTR,
 * SOA and NS (zone apex only), and any other type as opaque data through --dns-rr.
 *
 * Not servable by dnsmasq: NS delegations below the apex, DNAME substitution (a DNAME is served
 * as data only), DNSSEC records with real signatures, and zone transfers are not tried.
 */
import ipaddr from "ipaddr.js";
import { CORP_NET, HOSTS_FILE_ONLY, LAN } from "../netns/address-plan.js";

export const ZONE = "corp.test";
/** A CNAME to host.corp.test (HTTP on S): the name a flow through it carries. */
export const VAULT = `vault.${ZONE}`;
/** In L's /etc/hosts only: the forwarder says NXDOMAIN, getaddrinfo finds it. */
export const HOSTS_ONLY = { name: `hosts-only.${ZONE}`, address: HOSTS_FILE_ONLY.v4 };
const NS = LAN.dns;

/** Eight TXT strings of 241 bytes: about 2 KB, over both 512 and EDNS's 1232. */
export const BIG_TXT_STRINGS = Array.from({ length: 8 }, (_, index) => `${index + 1}`.padEnd(241, "x"));

function hex(text: string): string {
  return Buffer.from(text, "latin1").toString("hex");
}

/** <length><bytes> character-string, as hex. */
function characterString(text: string): string {
  return Buffer.from([text.length]).toString("hex") + hex(text);
}

export function dnsmasqConfig(): string {
  const lines = [
    `auth-server=ns1.${ZONE},${NS.v4},${NS.v6}`,
    `auth-zone=${ZONE},${CORP_NET.network.v4},${CORP_NET.network.v6}`,
    `auth-soa=2024010101,hostmaster.${ZONE},1200,180,1209600`,
    `auth-sec-servers=ns2.${ZONE}`,
    // Also the SOA minimum, hence the negative-caching TTL.
    "auth-ttl=30",
    `host-record=ns1.${ZONE},${NS.v4},${NS.v6}`,
    `host-record=host.${ZONE},${CORP_NET.host.v4},${CORP_NET.host.v6}`,
    `host-record=mail.${ZONE},${CORP_NET.mail.v4}`,
    `cname=www.${ZONE},host.${ZONE}`,
    // The NAT table's names (issue 16): a flow to host.corp.test's address reads as vault.corp.test.
    `cname=${VAULT},host.${ZONE}`,
    `mx-host=${ZONE},mail.${ZONE},10`,
    `srv-host=_http._tcp.${ZONE},host.${ZONE},80,0,5`,
    `txt-record=txt.${ZONE},"v=spf1 -all","second string"`,
    // dnsmasq's lines are short: one line per string makes eight TXT records of one RRset.
    ...BIG_TXT_STRINGS.map((text) => `txt-record=big.${ZONE},"${text}"`),
    `naptr-record=naptr.${ZONE},100,10,S,SIP+D2U,,_sip._udp.${ZONE}`,
    `dns-rr=caa.${ZONE},257,00${characterString("issue")}${hex("ca.example")}`,
    // HTTPS and SVCB: priority 1, target ".", alpn="h2" or "h3" (RFC 9460).
    `dns-rr=https.${ZONE},65,00010000010003026832`,
    `dns-rr=svcb.${ZONE},64,00010000010003026833`,
    `dns-rr=null.${ZONE},10,DEADBEEF`,
    `dns-rr=sshfp.${ZONE},44,0101${"ab".repeat(20)}`,
    `dns-rr=_443._tcp.${ZONE},52,030101${"cd".repeat(32)}`,
    `dns-rr=hinfo.${ZONE},13,${characterString("x86_64")}${characterString("Linux")}`,
    `dns-rr=dname.${ZONE},39,05${hex("other")}04${hex("test")}00`,
    `dns-rr=private.${ZONE},65280,C0FFEE`,
  ];
  return `${lines.join("\n")}\n`;
}

/** The PTR name of `address`: 10.1.19.198.in-addr.arpa, or its ip6.arpa nibbles. */
function reverseName(address: string): string {
  if (ipaddr.IPv4.isValid(address)) return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
  const bytes = ipaddr.IPv6.parse(address).toByteArray();
  const nibbles = bytes.flatMap((byte) => [byte >> 4, byte & 0xf]).map((nibble) => nibble.toString(16));
  return `${nibbles.reverse().join(".")}.ip6.arpa`;
}

export interface ZoneCase {
  name: string;
  type: string;
  /** What dig must report for it. */
  status: "NOERROR" | "NXDOMAIN";
}

/** Questions whose answers must match dig asked straight at S. */
export const ZONE_CASES: readonly ZoneCase[] = [
  { name: `host.${ZONE}`, type: "A", status: "NOERROR" },
  { name: `host.${ZONE}`, type: "AAAA", status: "NOERROR" },
  { name: `www.${ZONE}`, type: "CNAME", status: "NOERROR" },
  { name: `www.${ZONE}`, type: "A", status: "NOERROR" },
  { name: ZONE, type: "SOA", status: "NOERROR" },
  { name: ZONE, type: "NS", status: "NOERROR" },
  { name: ZONE, type: "MX", status: "NOERROR" },
  { name: `_http._tcp.${ZONE}`, type: "SRV", status: "NOERROR" },
  { name: `txt.${ZONE}`, type: "TXT", status: "NOERROR" },
  { name: `big.${ZONE}`, type: "TXT", status: "NOERROR" },
  { name: reverseName(CORP_NET.host.v4), type: "PTR", status: "NOERROR" },
  { name: reverseName(CORP_NET.host.v6), type: "PTR", status: "NOERROR" },
  { name: `naptr.${ZONE}`, type: "NAPTR", status: "NOERROR" },
  { name: `caa.${ZONE}`, type: "CAA", status: "NOERROR" },
  { name: `https.${ZONE}`, type: "HTTPS", status: "NOERROR" },
  { name: `svcb.${ZONE}`, type: "SVCB", status: "NOERROR" },
  { name: `null.${ZONE}`, type: "NULL", status: "NOERROR" },
  { name: `sshfp.${ZONE}`, type: "SSHFP", status: "NOERROR" },
  { name: `_443._tcp.${ZONE}`, type: "TLSA", status: "NOERROR" },
  { name: `hinfo.${ZONE}`, type: "HINFO", status: "NOERROR" },
  { name: `dname.${ZONE}`, type: "DNAME", status: "NOERROR" },
  { name: `private.${ZONE}`, type: "TYPE65280", status: "NOERROR" },
  // NODATA: the name exists, the type does not; the SOA comes in the authority section.
  { name: `host.${ZONE}`, type: "TXT", status: "NOERROR" },
  { name: `nothing.${ZONE}`, type: "MX", status: "NXDOMAIN" },
];

/** dnsmasq's arguments for serving the zone from `configFile` (written with dnsmasqConfig()). */
export function dnsmasqArgs(configFile: string): string[] {
  return [
    "--no-daemon",
    `--conf-file=${configFile}`,
    "--no-resolv",
    "--no-hosts",
    `--listen-address=${NS.v4},${NS.v6}`,
    "--bind-interfaces",
    "--pid-file=",
    "--user=root",
    "--log-facility=-",
  ];
}
