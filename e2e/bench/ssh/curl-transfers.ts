// The same curl transfers through either of Backhaul's entrances, run in R as a user would:
// through the TUN entrance curl goes straight to S; through the proxy entrance it goes through
// ALL_PROXY (socks5h) on R's loopback. iperf3 and the Node clients cannot use a proxy, so this is
// how the two entrances are compared like for like: bulk down (GET /bytes/N), bulk up (POST
// /upload, streamed from a file), small GETs (one curl each, a new connection each), and the CPU
// that R's and L's processes spent on the bulk transfers.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeResult } from "../../netns/index.js";
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

async function curl(t: BenchTopology, path: PeerPath, args: string[], timeoutMs: number): Promise<string> {
  const all = [
    "-sS",
    "--fail",
    "--max-time",
    String(Math.ceil(timeoutMs / 1000)),
    ...entranceFlags(path),
    ...args,
  ];
  const result = await runTracked(t.remote, "curl", all, { timeoutMs: timeoutMs + 5_000 });
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

export function quantileMs(samplesS: readonly number[], q: number): number {
  const sorted = [...samplesS].sort((a, b) => a - b);
  return (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN) * 1000;
}

export async function measureCurl(
  t: BenchTopology,
  path: PeerPath,
  options: CurlOptions,
): Promise<CurlResult> {
  const n = options.curlBytes;
  // A generous floor of 4 MB/s: only a stall reaches it.
  const bulkMs = 30_000 + n / 4_000;
  const upload = join(t.dir, `upload-${n}`);
  await writeFile(upload, deterministicBytes(n));
  // S makes /bytes/N once, then serves it from memory: made here, over S's own loopback, it is
  // not charged to whichever entrance is measured first.
  const warm = await runTracked(
    t.server,
    "curl",
    ["-sS", "--fail", "-o", "/dev/null", `http://127.0.0.1/bytes/${n}`],
    {
      timeoutMs: 60_000,
    },
  );
  if (warm.code !== 0) throw new Error(describeResult("curl in S", [], warm));
  const remoteBefore = await sampleNamespace(t.remote);
  const localBefore = await sampleNamespace(t.local);
  const down = parseSizeAndSpeed(
    await curl(
      t,
      path,
      ["-o", "/dev/null", "-w", "%{size_download} %{speed_download}", `${base}/bytes/${n}`],
      bulkMs,
    ),
    n,
    "download",
  );
  const upText = await curl(
    t,
    path,
    ["-T", upload, "-X", "POST", "-o", "/dev/null", "-w", "%{size_upload} %{speed_upload}", `${base}/upload`],
    bulkMs,
  );
  const up = parseSizeAndSpeed(upText, n, "upload");
  const perGB = (seconds: number): number => seconds / ((2 * n) / 1e9);
  const remoteCpuSPerGB = perGB(await cpuSince(remoteBefore));
  const localCpuSPerGB = perGB(await cpuSince(localBefore));
  const samples: number[] = [];
  for (let i = 0; i < WARMUP_GETS + options.curlGets; i++) {
    const seconds = Number(
      await curl(t, path, ["-o", "/dev/null", "-w", "%{time_total}", `${base}/`], 10_000),
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
