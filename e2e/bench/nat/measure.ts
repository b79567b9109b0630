// One row of the table: iperf3 TCP both ways, 1-byte request/response latency, and the CPU time
// the forwarding processes spent per gigabyte during the iperf3 runs.
import { oneShot } from "../../netns/child-rpc.js";
import { describeResult } from "../../netns/index.js";
import { cpuSeconds } from "./cpu.js";
import { runTracked } from "./tracked-run.js";
import type { Family } from "./options.js";
import type { BenchPath, ForwardingProcess } from "./path.js";
import type { RrClientCommands } from "./rr-client.js";

const RR_CLIENT = oneShot<RrClientCommands>("e2e/bench/nat/rr-client.ts");

export interface Measurement {
  upMbps: number;
  downMbps: number;
  rrMedianUs: number;
  rrP99Us: number;
  /** Bytes received by the far end in both iperf3 runs together. */
  bytesMoved: number;
  /** CPU seconds per 10^9 bytes moved; undefined when the path has no such process. */
  exitCpuSPerGB?: number;
  entranceCpuSPerGB?: number;
}

interface IperfReport {
  error?: string;
  end?: { sum_received?: { bytes: number; bits_per_second: number } };
}

async function iperf(
  path: BenchPath,
  host: string,
  seconds: number,
  reverse: boolean,
): Promise<{ mbps: number; bytes: number }> {
  const args = ["-c", host, "-t", String(seconds), "-J", "--connect-timeout", "5000"];
  if (reverse) args.push("-R");
  const result = await runTracked(path.remote, "iperf3", args, { timeoutMs: (seconds + 20) * 1000 });
  let report: IperfReport = {};
  try {
    report = JSON.parse(result.stdout) as IperfReport;
  } catch {
    // reported below with the command's output
  }
  const sum = report.end?.sum_received;
  if (result.code !== 0 || report.error || !sum) {
    throw new Error(report.error ? `iperf3: ${report.error}` : describeResult("iperf3", args, result));
  }
  return { mbps: sum.bits_per_second / 1e6, bytes: sum.bytes };
}

/** Round trips made before the counted ones (JIT and caches: the first hundreds are slower). */
export const RR_WARMUP = 500;

export async function requestResponse(
  path: BenchPath,
  host: string,
  count: number,
): Promise<{ medianUs: number; p99Us: number }> {
  const args = { host, port: 7, count, warmup: RR_WARMUP };
  return RR_CLIENT.call(path.remote, "measure", args, 60_000);
}

async function sampleCpu(forwarder: ForwardingProcess | undefined): Promise<number | undefined> {
  return forwarder ? cpuSeconds(forwarder.pid) : undefined;
}

function perGB(before: number | undefined, after: number | undefined, bytes: number): number | undefined {
  if (before === undefined || after === undefined || bytes <= 0) return undefined;
  return (after - before) / (bytes / 1e9);
}

export async function measure(
  path: BenchPath,
  family: Family,
  seconds: number,
  roundTrips: number,
): Promise<Measurement> {
  const host = path.hosts[family];
  if (!host) throw new Error(`${path.name} does not carry IPv${family}`);
  const exitBefore = await sampleCpu(path.exit);
  const entranceBefore = await sampleCpu(path.entrance);
  const up = await iperf(path, host, seconds, false);
  const down = await iperf(path, host, seconds, true);
  const exitAfter = await sampleCpu(path.exit);
  const entranceAfter = await sampleCpu(path.entrance);
  // After the bulk runs, so their CPU figures are not mixed with the latency test's.
  const rr = await requestResponse(path, host, roundTrips);
  const bytesMoved = up.bytes + down.bytes;
  return {
    upMbps: up.mbps,
    downMbps: down.mbps,
    rrMedianUs: rr.medianUs,
    rrP99Us: rr.p99Us,
    bytesMoved,
    exitCpuSPerGB: perGB(exitBefore, exitAfter, bytesMoved),
    entranceCpuSPerGB: perGB(entranceBefore, entranceAfter, bytesMoved),
  };
}
