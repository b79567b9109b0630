/**
 * The NAT test topology (DESIGN.md "Test topology"), without SSH: R holds a TUN device and the
 * entrance process; L runs the exit process (NAT engine); they are linked by a Unix socket, which
 * crosses namespaces as a path. S is a private network only L reaches.
 *
 *   R: bh0 198.18.0.1/30, 2001:db8:1::1/64; routes the advertised prefixes -> bh0
 *   L: veth 198.19.0.1/24, 2001:db8:19::1/64   (the NAT exit; also hosts "this computer" services)
 *   S: veth 198.19.0.10/24, 2001:db8:19::10/64 (HTTP :80, TCP+UDP echo :7, iperf3 :5201)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";
import { readJsonLines } from "../netns/json-lines.js";

export const S4 = "198.19.0.10";
export const S6 = "2001:db8:19::10";
export const L4 = "198.19.0.1";
export const L6 = "2001:db8:19::1";
const ROOT = new URL("../..", import.meta.url).pathname;
/** S's network, and more of 198.19/16 that nothing in L routes to (for "no route" cases). */
export const DEFAULT_PREFIXES = ["198.19.0.0/16", "2001:db8:19::/48"];

export interface NatTopologyOptions {
  mtu: number;
  allowLocal?: boolean;
  /** Prefixes advertised: the exit may reach them and R routes them into its TUN. */
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

function tsx(script: string): [string, string[]] {
  return [process.execPath, ["--import", "tsx", join(ROOT, script)]];
}

export async function buildNatTopology(options: NatTopologyOptions): Promise<NatTopology> {
  const lab = new NetnsLab();
  const socketDir = mkdtempSync(join(tmpdir(), "backhaul-nat-"));
  const cleanup = async (): Promise<void> => {
    try {
      await lab.cleanup();
    } finally {
      rmSync(socketDir, { recursive: true, force: true });
    }
  };
  try {
    const remote = await lab.createNamespace("r");
    const local = await lab.createNamespace("l");
    const server = await lab.createNamespace("s");
    await lab.addVethPair(local, server, {
      addressesA: [`${L4}/24`, `${L6}/64`],
      addressesB: [`${S4}/24`, `${S6}/64`],
    });

    const [node, serverArgs] = tsx("e2e/nat/servers.ts");
    const servers = server.spawn(node, serverArgs, { cwd: ROOT });
    server.spawn("iperf3", ["-s"], { cwd: ROOT });
    await waitForLine(servers, (v) => (v.ready ? true : undefined));

    const socket = join(socketDir, "link.sock");
    const prefixes = options.prefixes ?? DEFAULT_PREFIXES;
    if (options.servicesInLocal) {
      await waitForLine(local.spawn(node, serverArgs, { cwd: ROOT }), (v) => (v.ready ? true : undefined));
    }
    const [, exitArgs] = tsx("e2e/nat/exit-process.ts");
    const exit = local.spawn(
      node,
      [
        ...(options.nodeFlags?.exit ?? []),
        ...exitArgs,
        "--socket",
        socket,
        "--mtu",
        String(options.mtu),
        ...prefixes.flatMap((p) => ["--prefix", p]),
        ...(options.allowLocal ? ["--allow-local"] : []),
        ...(options.faults
          ? ["--faults", options.faults.spec, "--fault-seed", String(options.faults.seed)]
          : []),
      ],
      { cwd: ROOT },
    );
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

    const [, entranceArgs] = tsx("e2e/nat/entrance-process.ts");
    const entrance = remote.spawn(
      node,
      [
        ...(options.nodeFlags?.entrance ?? []),
        ...entranceArgs,
        "--socket",
        socket,
        "--mtu",
        String(options.mtu),
        "--address",
        "198.18.0.1/30",
        "--address",
        "2001:db8:1::1/64",
        ...prefixes.flatMap((p) => ["--route", p]),
      ],
      { cwd: ROOT },
    );
    await waitForLine(entrance, (v) => (v.ready ? true : undefined));
    return { lab, remote, local, server, exit, entrance, latestReport: () => latest, reports, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
