/**
 * The address plan of every e2e lab (DESIGN.md "Test topology"): which role holds which address on
 * which link. Topology and lab files take their addresses from here, so two suites never disagree
 * on where S is, and nothing leaves 198.18.0.0/15 and 2001:db8::/32 (address-plan.test.ts checks).
 *
 *   link            IPv4 / IPv6                             who holds what
 *   LINK_SUBNET     198.18.0.0/30     2001:db8:1::/64       R's TUN (bh0) .1/::1, the DNS stub .2/::2
 *   UI_LINK_SUBNET  198.18.50.0/30    2001:db8:50::/64      the browser lab's sandbox link
 *   SSH_LINK        198.18.1.0/30     -                     R .1 (sshd :22), L .2; 198.18.200.1 routed to R
 *   LAN             198.19.0.0/24     2001:db8:19::/64      L .1/::1, S .10/::10 (services), S .53/::53 (dnsmasq)
 *   CORP_NET        198.19.1.0/24     2001:db8:19:1::/64    L .1/::1, host.corp.test .10/::10, mail .25
 *   HOSTS_FILE_ONLY 198.19.7.7        -                     a name only L's /etc/hosts knows (DNS lab)
 *   ADVERTISED      198.19.0.0/16     2001:db8:19::/48      what L advertises: LAN, CORP_NET, and room for "no route"
 *   EXIT_HOSTILE    198.19.200.0/24   2001:db8:200::/64     L .1, S .10; no carrier 198.18.77.0/24; no route 198.19.99.0/24
 *   HOSTILE_REMOTE  198.19.50.0/24    2001:db8:19:50::/64   L's second interface; docker-like 198.19.60.0/24;
 *                                                           failing routes .202-.205; no route .200
 *   REMOTE_PRIVATE  198.18.90.0/24    -                     P, a network only R reaches: R .1, P .10 (HTTP, echo)
 *   BENCH           198.18.2-4.0/x    2001:db8:3::/64       kernel path R—L, slirp4netns, delay line L—D—S, far host 198.19.2.10
 *   REMOTE_RESOLVER 198.18.5.0/30     -                     R .1, Q .2: R's own DNS server (dnsmasq, remote.test), only R reaches it
 *   TWO_REMOTES     198.18.91-92.0/24 -                     P1 behind R1, P2 behind R2: R .1, P .10; the second session's
 *                   198.18.0.4/30     2001:db8:4::/64       link subnet (L's second TUN beside LINK_SUBNET's)
 *   VPN_UP          198.18.93.0/24    -                     a VPN that comes up in L mid-session (split DNS follows it)
 *
 * Services on S (e2e/nat/servers.ts, dnsmasq, iperf3) listen on SERVICE_PORTS. Namespace names stay
 * per suite (NetnsLab adds a per-run suffix); the same addresses in two suites never meet.
 */

/** A role's address in each family it has (IPv6 where the link carries it). */
export interface Host {
  readonly v4: string;
  readonly v6?: string;
}

/** A link's subnets, with prefix length: "198.19.0.0/24", "2001:db8:19::/64". */
export interface Network {
  readonly v4: string;
  readonly v6?: string;
}

import ipaddr from "ipaddr.js";

function prefixLength(cidr: string): string {
  return cidr.slice(cidr.indexOf("/"));
}

/** The hosts' addresses with `network`'s prefix lengths ("198.19.0.1/24"), as `ip addr add` takes them. */
export function onNetwork(network: Network, ...hosts: readonly Host[]): string[] {
  return hosts.flatMap((host) => [
    `${host.v4}${prefixLength(network.v4)}`,
    ...(host.v6 !== undefined && network.v6 !== undefined ? [`${host.v6}${prefixLength(network.v6)}`] : []),
  ]);
}

/** The `index`th address of `prefix`, 0 being the network's own: hostIn("198.19.202.0/24", 1) = 198.19.202.1. */
export function hostIn(prefix: string, index: number): string {
  const [network] = ipaddr.parseCIDR(prefix);
  const bytes = network.toByteArray();
  let value = bytes.reduce((sum, byte) => (sum << 8n) | BigInt(byte), 0n) + BigInt(index);
  for (let at = bytes.length - 1; at >= 0; at--, value >>= 8n) bytes[at] = Number(value & 0xffn);
  return ipaddr.fromByteArray(bytes).toString();
}

/** The broadcast address of an IPv4 prefix. */
export function broadcastOf(prefix: string): string {
  return ipaddr.IPv4.broadcastAddressFromCIDR(prefix).toString();
}

/** A network's prefixes as a list (IPv4 first), as routes and advertisements take them. */
export function prefixes(network: Network): string[] {
  return network.v6 === undefined ? [network.v4] : [network.v4, network.v6];
}

export const SERVICE_PORTS = { echo: 7, ssh: 22, dns: 53, http: 80, iperf3: 5201 } as const;

/** R's end of the link: the agent's (or the entrance's) TUN, and the DNS stub beside it. */
export const LINK_SUBNET = {
  network: { v4: "198.18.0.0/30", v6: "2001:db8:1::/64" },
  remote: { v4: "198.18.0.1", v6: "2001:db8:1::1" },
  stub: { v4: "198.18.0.2", v6: "2001:db8:1::2" },
  broadcast: { v4: "198.18.0.3" },
} as const;

/** The link subnet `backhaul ui` gives its sandbox remote in the browser lab. */
export const UI_LINK_SUBNET = {
  network: { v4: "198.18.50.0/30", v6: "2001:db8:50::/64" },
} as const;

/** R — L in the SSH suites: sshd in R. */
export const SSH_LINK = {
  network: { v4: "198.18.1.0/30" },
  remote: { v4: "198.18.1.1" },
  local: { v4: "198.18.1.2" },
  /** Routed from L to R, where nothing answers (R does not forward): a connect that times out. */
  blackhole: "198.18.200.1",
} as const;

/** L — S: the private network only L reaches. */
export const LAN = {
  network: { v4: "198.19.0.0/24", v6: "2001:db8:19::/64" },
  local: { v4: "198.19.0.1", v6: "2001:db8:19::1" },
  /** S where it serves HTTP, echo and iperf3 on this network (the NAT and hostile labs). */
  server: { v4: "198.19.0.10", v6: "2001:db8:19::10" },
  /** S's dnsmasq, authoritative for corp.test; L's resolver. */
  dns: { v4: "198.19.0.53", v6: "2001:db8:19::53" },
} as const;

/** S's second network, the zone's hosts (e2e/dns/zone.ts). */
export const CORP_NET = {
  network: { v4: "198.19.1.0/24", v6: "2001:db8:19:1::/64" },
  local: { v4: "198.19.1.1", v6: "2001:db8:19:1::1" },
  /** host.corp.test: S's services (HTTP, echo, iperf3). */
  host: { v4: "198.19.1.10", v6: "2001:db8:19:1::10" },
  mail: { v4: "198.19.1.25" },
} as const;

/** A name's address in L's /etc/hosts only (the DNS lab): the getaddrinfo fallback; on no link. */
export const HOSTS_FILE_ONLY = { v4: "198.19.7.7" } as const;

/** What L advertises to R unless a suite says otherwise: S's networks and more of 198.19/16, where nothing routes. */
export const ADVERTISED = { v4: "198.19.0.0/16", v6: "2001:db8:19::/48" } as const;

/** The exit-hostile lab's L (e2e/exit-hostile/lab.ts): an advertised LAN, a link without carrier, and no route. */
export const EXIT_HOSTILE = {
  lan: {
    network: { v4: "198.19.200.0/24", v6: "2001:db8:200::/64" },
    local: { v4: "198.19.200.1", v6: "2001:db8:200::1" },
    server: { v4: "198.19.200.10", v6: "2001:db8:200::10" },
    broadcast: "198.19.200.255",
  },
  noCarrier: {
    network: { v4: "198.18.77.0/24", v6: "2001:db8:77::/64" },
    local: { v4: "198.18.77.1", v6: "2001:db8:77::1" },
    /** The subnet-router anycast, held only while L forwards IPv6. */
    anycast: "2001:db8:77::",
  },
  noRoute: {
    network: { v4: "198.19.99.0/24", v6: "2001:db8:99::/64" },
    host: { v4: "198.19.99.1", v6: "2001:db8:99::1" },
  },
} as const;

/** The hostile-remote lab's L (e2e/hostile-remote/lab.ts): this computer's other addresses, and routes that fail. */
export const HOSTILE_REMOTE = {
  /** A second interface of L. */
  own: {
    network: { v4: "198.19.50.0/24", v6: "2001:db8:19:50::/64" },
    local: { v4: "198.19.50.1", v6: "2001:db8:19:50::1" },
  },
  /** Up without carrier, as docker0 with no containers. */
  dock: { network: { v4: "198.19.60.0/24" }, local: { v4: "198.19.60.1" } },
  prohibit: { v4: "198.19.202.0/24", v6: "2001:db8:19:202::/64" },
  unreachable: { v4: "198.19.203.0/24", v6: "2001:db8:19:203::/64" },
  blackhole: { v4: "198.19.204.0/24", v6: "2001:db8:19:204::/64" },
  /** Routed through S, which does not forward. */
  dropped: { v4: "198.19.205.0/24", v6: "2001:db8:19:205::/64" },
  /** Inside the advertised prefixes, but L has no route there. */
  noRoute: { v4: "198.19.200.0/24", v6: "2001:db8:19:200::/64" },
  /** On the LAN, where no host answers ARP or ND. */
  silent: { v4: "198.19.0.77", v6: "2001:db8:19::77" },
  /** Outside the advertised prefixes. */
  notAdvertised: { v4: "198.18.100.1", v6: "2001:db8:77::1" },
} as const;

/** P, a private network only R reaches (issue 15, the reverse direction): this computer reaches it through the agent's exit. */
export const REMOTE_PRIVATE = {
  network: { v4: "198.18.90.0/24" },
  remote: { v4: "198.18.90.1" },
  /** P's services (e2e/nat/servers.ts), named in R's hosts file only. */
  server: { v4: "198.18.90.10" },
} as const;

/** Two sessions at once to two remotes (e2e/cli-two-remotes.test.ts): a P behind each R, and the second session's link subnet. */
export const TWO_REMOTES = {
  p1: { network: { v4: "198.18.91.0/24" }, remote: { v4: "198.18.91.1" }, server: { v4: "198.18.91.10" } },
  p2: { network: { v4: "198.18.92.0/24" }, remote: { v4: "198.18.92.1" }, server: { v4: "198.18.92.10" } },
  /** Distinct from LINK_SUBNET: both sessions' TUNs live on L at once. */
  secondLinkSubnet: { network: { v4: "198.18.0.4/30", v6: "2001:db8:4::/64" } },
} as const;

/** R — Q in the split-DNS suite: the remote's own resolver, which only R reaches. */
/** A VPN coming up on L after the connect: a new route (the route watch notices) and its domain. */
export const VPN_UP = { network: { v4: "198.18.93.0/24" }, local: { v4: "198.18.93.1" } } as const;

export const REMOTE_RESOLVER = {
  network: { v4: "198.18.5.0/30" },
  remote: { v4: "198.18.5.1" },
  dns: { v4: "198.18.5.2" },
  /** What Q answers: pub.remote.test, and a decoy for host.corp.test that only a leak would show. */
  pub: "198.18.5.80",
  decoy: "198.18.5.66",
} as const;

/** The benchmarks' own links (e2e/bench): none of them is in a test suite's lab. */
export const BENCH = {
  /** The kernel path's R — L veth (L forwards). */
  kernelLink: {
    network: { v4: "198.18.3.0/30", v6: "2001:db8:3::/64" },
    remote: { v4: "198.18.3.1", v6: "2001:db8:3::1" },
    local: { v4: "198.18.3.2", v6: "2001:db8:3::2" },
  },
  /** slirp4netns's tap0 in R; its gateway is the network's .2. */
  slirp: { network: "198.18.2.0/24", gateway: "198.18.2.2" },
  /** ssh -w's tun0 at each end: fromDelay's subnet too, but ssh.bench.ts never builds the far host. */
  sshw: { network: { v4: "198.18.4.0/30" }, remote: { v4: "198.18.4.1" }, local: { v4: "198.18.4.2" } },
  /** L — D — S for the far host, D's delay line on the way. */
  toDelay: { network: { v4: "198.18.3.0/30" }, local: { v4: "198.18.3.1" }, delay: { v4: "198.18.3.2" } },
  fromDelay: { network: { v4: "198.18.4.0/30" }, delay: { v4: "198.18.4.1" }, server: { v4: "198.18.4.2" } },
  /** S's address behind the delay line. */
  farHost: "198.19.2.10",
  /** Every address of R's side, routed back from S through L on the forwarding paths. */
  remoteSide: "198.18.0.0/15",
} as const;
