/**
 * Where the fuzzer's packets go, and what DESIGN.md promises for each kind of destination
 * ("Processes and trust", "TCP endpoint essentials"). Addresses are those of lab.ts.
 */

export type TargetClass =
  /** The egress policy refuses it: ICMP administratively prohibited (or RST), never a connect. */
  | "refused"
  /** The DNS stub on the link subnet: answered by the exit itself. */
  | "stub"
  /** A real host in S: the destination answers (TCP :7 and :80, UDP :7, ICMP echo). */
  | "open"
  /** The connect fails at once (no route, prohibit, unreachable, blackhole): RST or ICMP. */
  | "fails"
  /** Nobody answers (ARP/ND, or a router that drops): the connect fails after seconds. */
  | "silent-host";

export interface Target {
  address: string;
  class: TargetClass;
  /** What it stands for, in a failure message. */
  what: string;
}

const refused = (address: string, what: string): Target => ({ address, class: "refused", what });

export const TARGETS: readonly Target[] = [
  refused("198.18.100.1", "not advertised"),
  refused("2001:db8:77::1", "not advertised"),
  refused("198.18.0.1", "the link subnet (the agent's own address)"),
  refused("2001:db8:1::1", "the link subnet (the agent's own address)"),
  refused("198.18.0.3", "the link subnet's broadcast"),
  refused("0.0.0.0", "unspecified"),
  refused("::", "unspecified"),
  refused("255.255.255.255", "limited broadcast"),
  refused("224.0.0.1", "multicast"),
  refused("239.255.255.250", "multicast"),
  refused("ff02::1", "multicast"),
  refused("ff05::1:3", "multicast"),
  refused("127.0.0.1", "loopback"),
  refused("127.8.9.10", "loopback"),
  refused("::1", "loopback"),
  refused("::ffff:127.0.0.1", "loopback, IPv4-mapped"),
  refused("169.254.10.20", "link-local"),
  refused("fe80::1", "link-local"),
  refused("198.19.0.1", "this computer (its LAN address)"),
  refused("2001:db8:19::1", "this computer (its LAN address)"),
  refused("::ffff:198.19.0.1", "this computer, IPv4-mapped"),
  refused("198.19.50.1", "this computer (a second interface)"),
  refused("2001:db8:19:50::1", "this computer (a second interface)"),
  refused("198.19.60.1", "this computer (an interface up without carrier, like docker0)"),
  refused("198.19.0.255", "this computer's subnet broadcast"),
  refused("198.19.50.255", "this computer's subnet broadcast"),
  refused("2001:db8:19::", "this computer's subnet-router anycast"),
  refused("2001:db8:19:50::", "this computer's subnet-router anycast"),
  { address: "198.18.0.2", class: "stub", what: "the DNS stub" },
  { address: "2001:db8:1::2", class: "stub", what: "the DNS stub" },
  { address: "198.19.0.10", class: "open", what: "a host in S" },
  { address: "2001:db8:19::10", class: "open", what: "a host in S" },
  { address: "::ffff:198.19.0.10", class: "open", what: "a host in S, IPv4-mapped" },
  { address: "198.19.200.1", class: "fails", what: "no route (ENETUNREACH)" },
  { address: "2001:db8:19:200::1", class: "fails", what: "no route (ENETUNREACH)" },
  { address: "198.19.202.1", class: "fails", what: "a prohibit route (EACCES)" },
  { address: "2001:db8:19:202::1", class: "fails", what: "a prohibit route (EACCES)" },
  { address: "198.19.203.1", class: "fails", what: "an unreachable route (EHOSTUNREACH)" },
  { address: "2001:db8:19:203::1", class: "fails", what: "an unreachable route" },
  { address: "198.19.204.1", class: "fails", what: "a blackhole route (EINVAL)" },
  { address: "2001:db8:19:204::1", class: "fails", what: "a blackhole route" },
  { address: "198.19.0.77", class: "silent-host", what: "no host answers ARP" },
  { address: "2001:db8:19::77", class: "silent-host", what: "no host answers ND" },
  { address: "198.19.205.1", class: "silent-host", what: "a route into a drop (the connect times out)" },
  {
    address: "2001:db8:19:205::1",
    class: "silent-host",
    what: "a route into a drop (the connect times out)",
  },
];

/** TCP ports something listens on in S (e2e/nat/servers.ts). */
export const OPEN_TCP_PORTS: readonly number[] = [7, 80];
export const UDP_ECHO_PORT = 7;
export const HOSTILE_PORTS: readonly number[] = [0, 1, 53, 65535, 81, 9, 7, 80, 443, 5201];

/**
 * Sources of packets that are refused anyway: answering them or not is the exit's choice, except
 * those that are no single host (unspecified, multicast, broadcast, 240/4), never answered.
 */
export const HOSTILE_SOURCES: readonly string[] = [
  "127.0.0.1",
  "0.0.0.0",
  "255.255.255.255",
  "224.0.0.1",
  "240.0.0.1",
  "198.19.0.10",
  "::1",
  "::",
  "ff02::1",
  "fe80::1",
  "2001:db8:19::10",
];
