/**
 * Where the fuzzer's packets go, and what DESIGN.md promises for each kind of destination
 * ("Processes and trust", "TCP endpoint essentials"). Addresses are those of lab.ts, from the
 * address plan (e2e/netns/address-plan.ts).
 */
import {
  broadcastOf,
  hostIn,
  HOSTILE_REMOTE,
  LAN,
  LINK_SUBNET,
  SERVICE_PORTS,
} from "../netns/address-plan.js";

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

const { own, dock, notAdvertised, silent } = HOSTILE_REMOTE;

/** The first host behind one of lab.ts's routes, in each family: `what6` where IPv6 says less. */
function behind(
  route: { v4: string; v6: string },
  targetClass: TargetClass,
  what: string,
  what6 = what,
): Target[] {
  return [
    { address: hostIn(route.v4, 1), class: targetClass, what },
    { address: hostIn(route.v6, 1), class: targetClass, what: what6 },
  ];
}

export const TARGETS: readonly Target[] = [
  refused(notAdvertised.v4, "not advertised"),
  refused(notAdvertised.v6, "not advertised"),
  refused(LINK_SUBNET.remote.v4, "the link subnet (the agent's own address)"),
  refused(LINK_SUBNET.remote.v6, "the link subnet (the agent's own address)"),
  refused(LINK_SUBNET.broadcast.v4, "the link subnet's broadcast"),
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
  refused(LAN.local.v4, "this computer (its LAN address)"),
  refused(LAN.local.v6, "this computer (its LAN address)"),
  refused(`::ffff:${LAN.local.v4}`, "this computer, IPv4-mapped"),
  refused(own.local.v4, "this computer (a second interface)"),
  refused(own.local.v6, "this computer (a second interface)"),
  refused(dock.local.v4, "this computer (an interface up without carrier, like docker0)"),
  refused(broadcastOf(LAN.network.v4), "this computer's subnet broadcast"),
  refused(broadcastOf(own.network.v4), "this computer's subnet broadcast"),
  refused(hostIn(LAN.network.v6, 0), "this computer's subnet-router anycast"),
  refused(hostIn(own.network.v6, 0), "this computer's subnet-router anycast"),
  { address: LINK_SUBNET.stub.v4, class: "stub", what: "the DNS stub" },
  { address: LINK_SUBNET.stub.v6, class: "stub", what: "the DNS stub" },
  { address: LAN.server.v4, class: "open", what: "a host in S" },
  { address: LAN.server.v6, class: "open", what: "a host in S" },
  { address: `::ffff:${LAN.server.v4}`, class: "open", what: "a host in S, IPv4-mapped" },
  ...behind(HOSTILE_REMOTE.noRoute, "fails", "no route (ENETUNREACH)"),
  ...behind(HOSTILE_REMOTE.prohibit, "fails", "a prohibit route (EACCES)"),
  ...behind(
    HOSTILE_REMOTE.unreachable,
    "fails",
    "an unreachable route (EHOSTUNREACH)",
    "an unreachable route",
  ),
  ...behind(HOSTILE_REMOTE.blackhole, "fails", "a blackhole route (EINVAL)", "a blackhole route"),
  { address: silent.v4, class: "silent-host", what: "no host answers ARP" },
  { address: silent.v6, class: "silent-host", what: "no host answers ND" },
  ...behind(HOSTILE_REMOTE.dropped, "silent-host", "a route into a drop (the connect times out)"),
];

/** TCP ports something listens on in S (e2e/nat/servers.ts). */
export const OPEN_TCP_PORTS: readonly number[] = [SERVICE_PORTS.echo, SERVICE_PORTS.http];
export const UDP_ECHO_PORT = SERVICE_PORTS.echo;
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
  LAN.server.v4,
  "::1",
  "::",
  "ff02::1",
  "fe80::1",
  LAN.server.v6,
];
