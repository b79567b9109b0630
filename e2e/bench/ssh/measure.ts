// One row of the table for a path that is up: iperf3 both ways and 1-byte round trips (the NAT
// bench's measure()), then 200 small HTTP requests and 50 dig queries, and the CPU that R's and
// L's processes spent meanwhile (and the garbage collections of those the GC probe counts).
import { oneShot } from "../../netns/child-rpc.js";
import { describeResult } from "../../netns/index.js";
import { measure as measureNat, requestResponse, RR_WARMUP } from "../nat/measure.js";
import type { PathName } from "../nat/options.js";
import type { BenchPath } from "../nat/path.js";
import { runTracked } from "../nat/tracked-run.js";
import { cpuByPidSince, sampleNamespace, type CpuSample } from "./cpu-group.js";
import { gcPerGB, isNodeCommand, readGcCounts, type GcPerGB, type GcSample } from "./gc-count.js";
import type { HttpClientCommands } from "./http-client.js";
import type { PeerPath } from "./path.js";
import { describeProcess, measureRoundTripCost, readCmdline, type RoundTripCost } from "./round-trip-cost.js";
import { HOST_NAME, type BenchTopology } from "./topology.js";
import { CORP_NET } from "../../netns/address-plan.js";

const HTTP_CLIENT = oneShot<HttpClientCommands>("e2e/bench/ssh/http-client.ts");

export interface MeasureOptions {
  /** "latency": round trips and GETs only; throughput, DNS and CPU are left out (NaN, undefined). */
  only?: "latency";
  seconds: number;
  roundTrips: number;
  requests: number;
  dnsQueries: number;
  /** Round trips counted for syscalls and context switches per process (absent or 0: not counted). */
  costRoundTrips?: number;
}

export interface HttpResult {
  count: number;
  totalMs: number;
  perRequestMs: number;
  medianMs: number;
  p99Ms: number;
}

export interface DnsResult {
  /** The server dig asked, from R's resolv.conf (the agent's stub under Backhaul). */
  server: string;
  count: number;
  medianUs: number;
  p90Us: number;
}

/** One process of R or L during iperf3, per 10^9 bytes moved. */
export interface ProcessBulkCost {
  side: "R" | "L";
  pid: number;
  /** As round-trip-cost.ts names it: "agent", "helper", "main (cli.mjs)", "sshd: bhdev@notty"... */
  process: string;
  cpuSPerGB: number;
  /** Absent for a process that is not Node; "not counted" for a Node process without the probe. */
  gc?: GcPerGB | "not counted";
}

export interface PeerMeasurement {
  upMbps: number;
  downMbps: number;
  rrMedianUs: number;
  rrP99Us: number;
  bytesMoved: number;
  http: HttpResult;
  dns: DnsResult;
  /** CPU seconds per 10^9 bytes of R's and L's processes; undefined where the kernel forwards. */
  remoteCpuSPerGB?: number;
  localCpuSPerGB?: number;
  /** CPU seconds per 10^9 bytes of each process of R and L during iperf3 (keyed by PID). */
  cpuByPid?: Record<number, number>;
  /** CPU and garbage collections per GB, per process of R and L that spent CPU or runs Node. */
  processes?: ProcessBulkCost[];
  /** System calls and context switches per 1-byte round trip, per process of R and L. */
  roundTripCost?: RoundTripCost;
}

/** The NAT bench's view of a path: R, and S's address (or `host`). */
export function natView(t: BenchTopology, path: PeerPath, host: string = CORP_NET.host.v4): BenchPath {
  return {
    // nat/path.ts types this as the NAT bench's own names; measure() only shows it in an error.
    name: path.name as PathName,
    mtu: 0,
    remote: t.remote,
    hosts: { 4: host },
    skipped: {},
    cleanup: () => path.stop(),
  };
}

export async function http(
  t: BenchTopology,
  count: number,
  host: string = CORP_NET.host.v4,
): Promise<HttpResult> {
  const args = { host, port: 80, count, warmup: 10 };
  return HTTP_CLIENT.call(t.remote, "measure", args, 120_000);
}

/** dig as a user would: R's resolv.conf names the server (the agent's stub under Backhaul). */
async function dns(t: BenchTopology, count: number): Promise<DnsResult> {
  const check = await runTracked(t.remote, "dig", ["+short", "+time=3", "+tries=1", HOST_NAME, "A"], {
    timeoutMs: 10_000,
  });
  if (check.stdout.trim() !== CORP_NET.host.v4) throw new Error(describeResult("dig", [HOST_NAME], check));
  // -u: microseconds (milliseconds would round the direct path to 0).
  const loop = `for i in $(seq ${count}); do dig -u +time=3 +tries=1 ${HOST_NAME} A; done`;
  const result = await runTracked(t.remote, "bash", ["-c", loop], { timeoutMs: count * 4_000 + 10_000 });
  const samples = [...result.stdout.matchAll(/^;; Query time: (\d+) usec$/gm)].map((m) => Number(m[1]));
  if (samples.length !== count) {
    throw new Error(`${samples.length} of ${count} dig queries answered: ${result.stderr.trim()}`);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.max(0, Math.ceil(q * samples.length) - 1)] ?? NaN;
  const server = /^;; SERVER: ([^#\s]+)/m.exec(result.stdout)?.[1] ?? "unknown";
  return { server, count, medianUs: at(0.5), p90Us: at(0.9) };
}

export async function measurePath(
  t: BenchTopology,
  path: PeerPath,
  options: MeasureOptions,
): Promise<PeerMeasurement> {
  if (options.only === "latency") {
    const rr = await requestResponse(natView(t, path), CORP_NET.host.v4, options.roundTrips);
    return {
      upMbps: NaN,
      downMbps: NaN,
      rrMedianUs: rr.medianUs,
      rrP99Us: rr.p99Us,
      bytesMoved: 0,
      http: await http(t, options.requests),
      dns: { server: "not measured", count: 0, medianUs: NaN, p90Us: NaN },
    };
  }
  // Processes present before the clients start: the ones doing the forwarding.
  const gcBefore = await sampleGc(path.gcDir);
  const remoteBefore = await sampleNamespace(t.remote);
  const localBefore = await sampleNamespace(t.local);
  const bulk = await measureNat(natView(t, path), 4, options.seconds, options.roundTrips);
  const remoteByPid = await cpuByPidSince(remoteBefore);
  const localByPid = await cpuByPidSince(localBefore);
  const gcAfter = await sampleGc(path.gcDir);
  const sum = (spent: CpuSample): number => [...spent.values()].reduce((a, b) => a + b, 0);
  const remoteCpu = sum(remoteByPid);
  const localCpu = sum(localByPid);
  const perGB = (seconds: number): number | undefined =>
    path.userspace && bulk.bytesMoved > 0 ? seconds / (bulk.bytesMoved / 1e9) : undefined;
  return {
    upMbps: bulk.upMbps,
    downMbps: bulk.downMbps,
    rrMedianUs: bulk.rrMedianUs,
    rrP99Us: bulk.rrP99Us,
    bytesMoved: bulk.bytesMoved,
    http: await http(t, options.requests),
    dns: await dns(t, options.dnsQueries),
    remoteCpuSPerGB: perGB(remoteCpu),
    localCpuSPerGB: perGB(localCpu),
    ...(path.userspace &&
      bulk.bytesMoved > 0 && {
        cpuByPid: Object.fromEntries(
          [...remoteByPid, ...localByPid].map(([pid, spent]) => [pid, spent / (bulk.bytesMoved / 1e9)]),
        ),
        processes: [
          ...bulkCostByProcess("R", remoteByPid, gcBefore, gcAfter, bulk.bytesMoved),
          ...bulkCostByProcess("L", localByPid, gcBefore, gcAfter, bulk.bytesMoved),
        ],
      }),
    ...(path.userspace &&
      (options.costRoundTrips ?? 0) > 0 && {
        roundTripCost: await roundTripCost(t, path, options.costRoundTrips ?? 0),
      }),
  };
}

/** The probe writes at most every 200 ms: a moment first, so the sample holds what came before. */
async function sampleGc(dir: string | undefined): Promise<GcSample> {
  if (dir === undefined) return new Map();
  await new Promise((resolve) => setTimeout(resolve, 400));
  return readGcCounts(dir);
}

/**
 * Each process of one side that spent CPU (0.005 s/GB or more, what the table shows as 0.01) or
 * runs Node, with its collections where the probe counted them.
 */
export function bulkCostByProcess(
  side: "R" | "L",
  cpuByPid: ReadonlyMap<number, number>,
  gcBefore: GcSample,
  gcAfter: GcSample,
  bytesMoved: number,
): ProcessBulkCost[] {
  const costs: ProcessBulkCost[] = [];
  for (const [pid, spent] of cpuByPid) {
    let cmdline: string[];
    try {
      cmdline = readCmdline(pid);
    } catch {
      continue; // exited since
    }
    const cpuSPerGB = spent / (bytesMoved / 1e9);
    const node = isNodeCommand(cmdline);
    if (!node && !(cpuSPerGB >= 0.005)) continue;
    const gc = node ? (gcPerGB(pid, gcBefore, gcAfter, bytesMoved) ?? "not counted") : undefined;
    costs.push({ side, pid, process: describeProcess(cmdline), cpuSPerGB, ...(gc && { gc }) });
  }
  return costs;
}

/** Counted after everything else, so strace's slowdown touches no other figure. */
function roundTripCost(t: BenchTopology, path: PeerPath, count: number): Promise<RoundTripCost> {
  return measureRoundTripCost(t.remote, t.local, count + RR_WARMUP, async () => {
    await requestResponse(natView(t, path), CORP_NET.host.v4, count);
  });
}
