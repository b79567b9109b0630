/**
 * The NAT test topology (DESIGN.md "Test topology"), without SSH: R holds a TUN device and the
 * entrance process; L runs the exit process (NAT engine); they are linked by a Unix socket, which
 * crosses namespaces as a path. S is a private network only L reaches.
 *
 *   R: bh0 at LINK_SUBNET.remote; routes the advertised prefixes -> bh0
 *   L: veth at LAN.local  (the NAT exit; also hosts "this computer" services)
 *   S: veth at LAN.server (HTTP, TCP+UDP echo, iperf3; SERVICE_PORTS)
 * (addresses: e2e/netns/address-plan.ts)
 */
import { join } from "node:path";
import { ChildRpc } from "../netns/child-rpc.js";
import { ADVERTISED, LINK_SUBNET, onNetwork, prefixes as prefixList } from "../netns/address-plan.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";
import { addLanVeth } from "../netns/lan-veth.js";
import { startServers } from "./start-servers.js";

export interface NatTopologyOptions {
  mtu: number;
  allowLocal?: boolean;
  /** Prefixes advertised: the exit may reach them and R routes them into its TUN; default ADVERTISED. */
  prefixes?: string[];
  /** Also run the S services in L, as "services on this computer". */
  servicesInLocal?: boolean;
  /** A FaultInjector between the link and the NAT engine: "loss=0.01,reorder=0.05", and its seed. */
  faults?: { spec: string; seed: number };
  /** Extra Node flags for the exit and entrance processes (profiling, benchmarks). */
  nodeFlags?: { exit?: string[]; entrance?: string[] };
}

export interface ExitReport {
  rss: number;
  flows: { tcp: number; udp: number; icmp: number };
  buffered: number;
  counters: Record<string, number>;
  /** With faults: what each direction suffered (FaultInjector.counts). */
  faultCounts?: Record<"inbound" | "outbound", Record<string, number>>;
}

/** What the exit and entrance processes emit: the exit's reports, and each one's ready line. */
type ExitEvent = Partial<ExitReport> & { listening?: true; ready?: true };

export interface NatTopology {
  lab: NetnsLab;
  remote: NetworkNamespace;
  local: NetworkNamespace;
  server: NetworkNamespace;
  exit: ManagedProcess;
  entrance: ManagedProcess;
  /** The exit process's latest once-a-second report. */
  latestReport(): ExitReport | undefined;
  /** Every report so far (for peaks). */
  reports: ExitReport[];
  cleanup(): Promise<void>;
}

export function buildNatTopology(options: NatTopologyOptions): Promise<NatTopology> {
  return NetnsLab.build(async (lab) => {
    const socket = join(lab.tempDir("backhaul-nat-"), "link.sock");
    const remote = await lab.createNamespace("r");
    const local = await lab.createNamespace("l");
    const server = await lab.createNamespace("s");
    await addLanVeth(lab, local, server);

    server.spawn("iperf3", ["-s"]);
    await startServers(server);

    const prefixes = options.prefixes ?? prefixList(ADVERTISED);
    if (options.servicesInLocal) await startServers(local);
    // Both ends of the link: a process on the socket, at the topology's MTU.
    const linkEnd = (ns: NetworkNamespace, script: string, nodeFlags: string[] = [], args: string[]) =>
      ChildRpc.start<Record<never, never>, ExitEvent>(ns, script, {
        nodeFlags,
        args: ["--socket", socket, "--mtu", String(options.mtu), ...args],
      });
    const exit = linkEnd(local, "e2e/nat/exit-process.ts", options.nodeFlags?.exit, [
      ...prefixes.flatMap((p) => ["--prefix", p]),
      ...(options.allowLocal ? ["--allow-local"] : []),
      ...(options.faults
        ? ["--faults", options.faults.spec, "--fault-seed", String(options.faults.seed)]
        : []),
    ]);
    const reports: ExitReport[] = [];
    let latest: ExitReport | undefined;
    exit.onEvent((event) => {
      if (event.rss === undefined) return;
      latest = event as ExitReport;
      reports.push(latest);
    });
    await exit.waitFor("listening", (event) => event.listening);

    const entrance = linkEnd(remote, "e2e/nat/entrance-process.ts", options.nodeFlags?.entrance, [
      ...onNetwork(LINK_SUBNET.network, LINK_SUBNET.remote).flatMap((cidr) => ["--address", cidr]),
      ...prefixes.flatMap((p) => ["--route", p]),
    ]);
    await entrance.waitFor("ready", (event) => event.ready);
    return {
      lab,
      remote,
      local,
      server,
      exit: exit.process,
      entrance: entrance.process,
      latestReport: () => latest,
      reports,
      cleanup: () => lab.cleanup(),
    };
  });
}
