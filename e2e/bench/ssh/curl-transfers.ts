// The same curl transfers through either of Backhaul's entrances, run in R as a user would:
// through the TUN entrance curl goes straight to S; through the proxy entrance it goes through
// ALL_PROXY (socks5h) on R's loopback. iperf3 and the Node clients cannot use a proxy, so this is
// how the two entrances are compared like for like: bulk down (GET /bytes/N), bulk up (POST
// /upload, streamed from a file), small GETs (one curl each, a new connection each), and the CPU
// that R's and L's processes spent on the bulk transfers.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeResult, type NetworkNamespace } from "../../netns/index.js";
import { CORP_NET } from "../../netns/address-plan.js";
import { deterministicBytes } from "../../nat/content.js";
import { runTracked } from "../nat/tracked-run.js";
import { cpuSince, sampleNamespace } from "./cpu-group.js";
import type { PeerPath } from "./path.js";
import type { BenchTopology } from "./topology.js";

export interface CurlOptions {
  /** Bytes fetched, then posted. */
  curlBytes: number;
  curlGets: number;
}

export interface CurlResult {
  bytes: number;
  /** MB (10^6 bytes) per second, as curl's speed_download and speed_upload. */
  downMBps: number;
  upMBps: number;
  gets: number;
  getMedianMs: number;
  getP90Ms: number;
  /** CPU seconds per 10^9 bytes moved by the two bulk transfers. */
  remoteCpuSPerGB: number;
  localCpuSPerGB: number;
}

const WARMUP_GETS = 5;
const base = `http://${CORP_NET.host.v4}`;

/** curl's flags for the entrance: the proxy's URL, or none at all (nor any from the env). */
const entranceFlags = (path: PeerPath): string[] =>
  path.proxy ? ["--proxy", path.proxy] : ["--noproxy", "*"];

/** Where curl runs and what it reaches: its namespace, the flags that pick the path, the server. */
export interface CurlVantage {
  namespace: NetworkNamespace;
  flags: string[];
  /** The server's base URL (http://ADDRESS), which serves /bytes/N, /upload and /. */
  base: string;
}

async function curl(via: CurlVantage, args: string[], timeoutMs: number): Promise<string> {
  const all = ["-sS", "--fail", "--max-time", String(Math.ceil(timeoutMs / 1000)), ...via.flags, ...args];
  const result = await runTracked(via.namespace, "curl", all, { timeoutMs: timeoutMs + 5_000 });
  if (result.code !== 0) throw new Error(describeResult("curl", args, result));
  return result.stdout;
}

/** `%{size_…} %{speed_…}` as curl writes them: bytes, then bytes per second. */
export function parseSizeAndSpeed(text: string, expected: number, what: string): number {
  const [size, speed] = text.trim().split(/\s+/).map(Number);
  if (size !== expected || speed === undefined || !Number.isFinite(speed) || speed <= 0)
    throw new Error(`${what}: curl moved ${text.trim()}, expected ${expected} bytes`);
  return speed / 1e6;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function quantileMs(samplesS: readonly number[], q: number): number {
  const sorted = [...samplesS].sort((a, b) => a - b);
  return (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN) * 1000;
}

export async function measureCurl(
  t: BenchTopology,
  path: PeerPath,
  options: CurlOptions,
): Promise<CurlResult> {
  // S makes /bytes/N once, then serves it from memory: made here, over S's own loopback, it is
  // not charged to whichever entrance is measured first.
  const warm = await runTracked(
    t.server,
    "curl",
    ["-sS", "--fail", "-o", "/dev/null", `http://127.0.0.1/bytes/${options.curlBytes}`],
    {
      timeoutMs: 60_000,
    },
  );
  if (warm.code !== 0) throw new Error(describeResult("curl in S", [], warm));
  const via = { namespace: t.remote, flags: entranceFlags(path), base };
  return measureTransfers(t, via, join(t.dir, `upload-${options.curlBytes}`), options);
}

/** Unmeasured down-and-up pairs before the measured transfers, on either entrance. */
export const WARMUP_PAIRS = 2;
/** Measured transfers each way; the speed reported is their median. */
export const MEASURED_TRANSFERS = 3;

/**
 * Bulk down and up (`uploadFile` is written first, and WARMUP_PAIRS of each run unmeasured), with
 * R's and L's CPU over the measured ones, then the small GETs after a few unmeasured ones; the
 * server has /bytes/N ready.
 */
export async function measureTransfers(
  t: BenchTopology,
  via: CurlVantage,
  uploadFile: string,
  options: CurlOptions,
): Promise<CurlResult> {
  const n = options.curlBytes;
  // A generous floor of 4 MB/s: only a stall reaches it.
  const bulkMs = 30_000 + n / 4_000;
  await writeFile(uploadFile, deterministicBytes(n));
  const download = async (): Promise<number> =>
    parseSizeAndSpeed(
      await curl(
        via,
        ["-o", "/dev/null", "-w", "%{size_download} %{speed_download}", `${via.base}/bytes/${n}`],
        bulkMs,
      ),
      n,
      "download",
    );
  const upload = async (): Promise<number> =>
    parseSizeAndSpeed(
      await curl(
        via,
        [
          "-T",
          uploadFile,
          "-X",
          "POST",
          "-o",
          "/dev/null",
          "-w",
          "%{size_upload} %{speed_upload}",
          `${via.base}/upload`,
        ],
        bulkMs,
      ),
      n,
      "upload",
    );
  // Both entrances measured equally warm. A fresh connection's first transfers run at 0.7-0.9x
  // the later ones (JIT, heaps, socket buffers still growing: 220 -> 280 -> 300 MB/s on the
  // first three 128 MiB downloads, either entrance), and the TUN row's curl would otherwise
  // follow its iperf3 run while the proxy row's starts cold.
  for (let i = 0; i < WARMUP_PAIRS; i++) {
    await download();
    await upload();
  }
  const remoteBefore = await sampleNamespace(t.remote);
  const localBefore = await sampleNamespace(t.local);
  const downs: number[] = [];
  const ups: number[] = [];
  for (let i = 0; i < MEASURED_TRANSFERS; i++) downs.push(await download());
  for (let i = 0; i < MEASURED_TRANSFERS; i++) ups.push(await upload());
  const perGB = (seconds: number): number => seconds / ((2 * MEASURED_TRANSFERS * n) / 1e9);
  const remoteCpuSPerGB = perGB(await cpuSince(remoteBefore));
  const localCpuSPerGB = perGB(await cpuSince(localBefore));
  const down = median(downs);
  const up = median(ups);
  const samples: number[] = [];
  for (let i = 0; i < WARMUP_GETS + options.curlGets; i++) {
    const seconds = Number(
      await curl(via, ["-o", "/dev/null", "-w", "%{time_total}", `${via.base}/`], 10_000),
    );
    if (i >= WARMUP_GETS) samples.push(seconds);
  }
  return {
    bytes: n,
    downMBps: down,
    upMBps: up,
    gets: samples.length,
    getMedianMs: quantileMs(samples, 0.5),
    getP90Ms: quantileMs(samples, 0.9),
    remoteCpuSPerGB,
    localCpuSPerGB,
  };
}
