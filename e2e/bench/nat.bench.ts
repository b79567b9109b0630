/**
 * `npm run bench:nat`: Backhaul's NAT engine side by side with its peers, R -> S in network
 * namespaces (DESIGN.md "Test topology", "Performance notes"), at each link MTU:
 *   kernel       R -veth- L (ip_forward) -veth- S: the ceiling, no userspace at all
 *   slirp4netns  R's tap0 <- slirp4netns (libslirp) in L -> S: another userspace NAT
 *   backhaul     R's TUN <- entrance -> Unix socket -> exit (NAT engine) in L -> S, no SSH
 * Per row: iperf3 TCP up and down, 1-byte request/response latency over one TCP connection, CPU
 * seconds per GB of the forwarding processes. Prints a table; writes e2e/artifacts/bench-nat.json.
 * Needs root; otherwise says why and exits 0. Flags: see nat/options.ts (--mtu, --family, ...).
 */
import { netnsSkipReason } from "../netns/index.js";
import { message, once, publishResults, runBench } from "./bench-run.js";
import { measure } from "./nat/measure.js";
import { parseOptions, PATH_NAMES, type BenchOptions, type PathName } from "./nat/options.js";
import type { BenchPath } from "./nat/path.js";
import { buildBackhaulPath } from "./nat/path-backhaul.js";
import { buildKernelPath } from "./nat/path-kernel.js";
import { buildSlirpPath, slirpSkipReason } from "./nat/path-slirp.js";
import { computeRatios, formatTable, writeJson, type ResultRow } from "./nat/report.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const BUILDERS: Record<PathName, (mtu: number) => Promise<BenchPath>> = {
  kernel: buildKernelPath,
  slirp4netns: buildSlirpPath,
  backhaul: buildBackhaulPath,
};

const log = (line: string): void => void process.stderr.write(`bench:nat: ${line}\n`);

// The path being measured, so Ctrl-C still removes its namespaces and processes. Its cleanup is
// shared: the signal handler and runPath's finally may both ask for it, and both must wait for it.
let current: { cleanup: () => Promise<void> } | undefined;
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: cleaning up`);
    // Mid-build there is nothing to clean yet: runPath cleans what the build returns, main stops.
    if (current) void current.cleanup().finally(() => process.exit(130));
  });
}

async function runPath(name: PathName, mtu: number, options: BenchOptions): Promise<ResultRow[]> {
  const rows = (extra: Partial<ResultRow>): ResultRow[] =>
    options.families.map((family) => ({ path: name, mtu, family, ...extra }));
  const unavailable = name === "slirp4netns" ? slirpSkipReason() : undefined;
  if (unavailable) return rows({ skipped: unavailable });
  log(`${name} at MTU ${mtu}: building`);
  let path: BenchPath;
  try {
    path = await BUILDERS[name](mtu);
  } catch (error) {
    return rows({ error: `setup failed: ${message(error)}` });
  }
  const cleanup = once(() => path.cleanup());
  current = { cleanup };
  const results: ResultRow[] = [];
  try {
    for (const family of options.families) {
      if (interrupted) break;
      const skipped = path.skipped[family];
      if (skipped) {
        results.push({ path: name, mtu, family, skipped });
        continue;
      }
      log(`${name} at MTU ${mtu}, IPv${family}: iperf3 up, down, ${options.roundTrips} round trips`);
      try {
        const result = await measure(path, family, options.seconds, options.roundTrips);
        results.push({ path: name, mtu, family, result });
      } catch (error) {
        results.push({ path: name, mtu, family, error: message(error) });
      }
    }
  } finally {
    current = undefined;
    await cleanup().catch((error: unknown) => log(`cleanup of ${name}: ${message(error)}`));
  }
  return results;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), `${ROOT}e2e/artifacts/bench-nat.json`);
  const skip = netnsSkipReason({
    tun: options.paths.includes("backhaul"),
    tools: ["ip", "iperf3", "sysctl", "getconf"],
  });
  if (skip) {
    log(`not run: ${skip}`);
    return 0;
  }
  const slirpMissing = options.paths.includes("slirp4netns") ? slirpSkipReason() : undefined;
  if (slirpMissing) log(slirpMissing);
  const started = Date.now();
  const rows: ResultRow[] = [];
  for (const mtu of options.mtus) {
    for (const name of options.paths) {
      if (!interrupted) rows.push(...(await runPath(name, mtu, options)));
    }
  }
  if (interrupted) return 130;
  // Group by MTU and family so each NAT row sits under the peers it is compared with.
  const order = (row: ResultRow): number[] => [
    options.mtus.indexOf(row.mtu),
    row.family,
    PATH_NAMES.indexOf(row.path),
  ];
  rows.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x.map((v, i) => v - (y[i] ?? 0)).find((d) => d !== 0) ?? 0;
  });
  const ratios = computeRatios(rows);
  return publishResults({
    table: formatTable(rows, ratios),
    out: options.out,
    write: () => writeJson(options.out, options, rows, ratios),
    started,
    failed: rows.some((row) => row.error),
    log,
  });
}

runBench(main, log);
