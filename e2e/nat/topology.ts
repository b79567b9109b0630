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
import { ADVERTISED, LINK_SUBNET, onNetwork, prefixes as prefixList } from "../netns/address-plan.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";
import { readJsonLines } from "../netns/json-lines.js";
import { addLanVeth } from "../netns/lan-veth.js";

const ROOT = new URL("../..", import.meta.url).pathname;

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

/** Resolves with the first stdout JSON line that satisfies `match`. */
export function waitForLine<T>(
  process: ManagedProcess,
  match: (value: Record<string, unknown>) => T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(
      () =>
        reject(new Error(`${process.description}: no expected line in ${timeoutMs} ms; stderr: ${stderr}`)),
      timeoutMs,
    );
    process.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    readJsonLines(process.child.stdout, (line) => {
      const value = match(line);
      if (value !== undefined) {
        clearTimeout(timer);
        resolve(value);
      }
    });
    void process.exited.then((info) => {
      clearTimeout(timer);
      reject(new Error(`${process.description} exited (${info.code ?? info.signal}); stderr: ${stderr}`));
    });
  });
}

export function buildNatTopology(options: NatTopologyOptions): Promise<NatTopology> {
  return NetnsLab.build(async (lab) => {
    const socket = join(lab.tempDir("backhaul-nat-"), "link.sock");
    const remote = await lab.createNamespace("r");
    const local = await lab.createNamespace("l");
    const server = await lab.createNamespace("s");
    await addLanVeth(lab, local, server);

    const servicesArgs = ["--import", "tsx", join(ROOT, "e2e/nat/servers.ts")];
    const servers = server.spawn(process.execPath, servicesArgs, { cwd: ROOT });
    server.spawn("iperf3", ["-s"], { cwd: ROOT });
    await waitForLine(servers, (v) => (v.ready ? true : undefined));

    const prefixes = options.prefixes ?? prefixList(ADVERTISED);
    if (options.servicesInLocal) {
      const inLocal = local.spawn(process.execPath, servicesArgs, { cwd: ROOT });
      await waitForLine(inLocal, (v) => (v.ready ? true : undefined));
    }
    // Both ends of the link: a process on the socket, at the topology's MTU.
    const linkEnd = (ns: NetworkNamespace, script: string, nodeFlags: string[] = [], args: string[]) =>
      ns.spawn(
        process.execPath,
        [
          ...nodeFlags,
          ...["--import", "tsx", join(ROOT, script)],
          ...["--socket", socket, "--mtu", String(options.mtu)],
          ...args,
        ],
        { cwd: ROOT },
      );
    const exit = linkEnd(local, "e2e/nat/exit-process.ts", options.nodeFlags?.exit, [
      ...prefixes.flatMap((p) => ["--prefix", p]),
      ...(options.allowLocal ? ["--allow-local"] : []),
      ...(options.faults
        ? ["--faults", options.faults.spec, "--fault-seed", String(options.faults.seed)]
        : []),
    ]);
    const reports: ExitReport[] = [];
    let latest: ExitReport | undefined;
    await waitForLine(exit, (v) => (v.listening ? true : undefined));
    void waitForLine(
      exit,
      (v) => {
        if (typeof v.rss === "number") {
          latest = v as unknown as ExitReport;
          reports.push(latest);
        }
        return undefined;
      },
      24 * 3600 * 1000,
    ).catch(() => undefined);

    const entrance = linkEnd(remote, "e2e/nat/entrance-process.ts", options.nodeFlags?.entrance, [
      ...onNetwork(LINK_SUBNET.network, LINK_SUBNET.remote).flatMap((cidr) => ["--address", cidr]),
      ...prefixes.flatMap((p) => ["--route", p]),
    ]);
    await waitForLine(entrance, (v) => (v.ready ? true : undefined));
    return {
      lab,
      remote,
      local,
      server,
      exit,
      entrance,
      latestReport: () => latest,
      reports,
      cleanup: () => lab.cleanup(),
    };
  });
}
