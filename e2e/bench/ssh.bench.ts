/**
 * `npm run bench`: Backhaul over SSH side by side with its peers, R -> S in network namespaces
 * (DESIGN.md "Test topology", "Performance notes"; the layout is in ssh/topology.ts):
 *   direct     L's kernel forwards, no tunnel: the reference for small requests
 *   backhaul   `backhaul connect` in L over OpenSSH in R (dist/cli.mjs), the TUN entrance
 *   proxy      the same with `--entrance proxy`: SOCKS5 on R's loopback, measured with curl only
 *   sshuttle   sshuttle in R, logged in to a root sshd in L
 *   ssh -w     OpenSSH's tun forwarding R <-> L, kernel forwarding in L
 *   raw        one ssh2 exec channel L <-> R: the ceiling for anything carried over SSH
 * Per path: iperf3 TCP both ways, 200 sequential small HTTP requests, 1-byte round trips, dig
 * latency, CPU per GB on each side, and system calls and context switches per round trip for
 * each process of R and L (ssh/round-trip-cost.ts), with CPU and, for Backhaul's main and helper,
 * garbage collections per GB (ssh/gc-count.ts); backhaul: time to connected and the helper's
 * memory idle and with 1,000 flows (ssh/connection-cost.ts); backhaul and proxy also: the same curl transfers through each
 * entrance (ssh/curl-transfers.ts), a second table and "proxy ÷ TUN". Then the reverse path
 * (ssh/reverse.ts, `reverse` in --path): L to P behind R, direct, `backhaul --socks` and sshuttle,
 * the same curl figures, a third table. Prints a table with Backhaul's ratios; writes
 * e2e/artifacts/bench-ssh.json. Needs root and `npm run build`; otherwise says why and exits 0.
 * `--only latency`: only the round trips and the GETs (a quick A/B; builds compared in
 * alternation: ssh-latency.bench.ts). `--variant NAME=PATH/TO/cli.mjs` (repeatable): Backhaul's
 * rows (backhaul and proxy) once per build, a copy of dist/ each (ssh/variants.ts), with `--rounds N`: every row N
 * times, the builds' order rotating, medians in the table.
 */
import { existsSync } from "node:fs";
import { netnsSkipReason } from "../netns/index.js";
import { sshdSkipReason } from "../sshd/preconditions.js";
import { message, once, publishResults, runBench } from "./bench-run.js";
import { writeBenchJson } from "./report-json.js";
import { measureCeiling } from "./ssh/ceiling.js";
import { HELD_FLOWS, helperPid, rssMiB, rssWithFlows } from "./ssh/connection-cost.js";
import { measurePath } from "./ssh/measure.js";
import { isPeer, parseOptions, type SshBenchOptions } from "./ssh/options.js";
import type { PeerName, PeerPath } from "./ssh/path.js";
import { measureCurl } from "./ssh/curl-transfers.js";
import { startBackhaul, startBackhaulProxy } from "./ssh/path-backhaul.js";
import { startDirect } from "./ssh/path-direct.js";
import { startSshuttle, sshuttleSkipReason } from "./ssh/path-sshuttle.js";
import { startSshW } from "./ssh/path-sshw.js";
import { computeRatios, formatTable, writeJson, type ResultRow } from "./ssh/report.js";
import { buildTopology, type BenchTopology } from "./ssh/topology.js";
import { formatReverseTable, measureReverse, type ReverseRow } from "./ssh/reverse.js";
import { computeVariantRatios, foldRounds, roundPlan, type PlannedRow } from "./ssh/variants.js";

const ROOT = new URL("../..", import.meta.url).pathname;
/** Far above a normal run (about 2 minutes a round, a third more per extra build): only a hang gets
 * here. */
const overallLimitMs = (options: SshBenchOptions): number =>
  Math.max(9, 3 * options.rounds * (3 + options.variants.length)) * 60_000;
/** `cli`: the build of Backhaul to start (its dist/cli.mjs); the peers take none. */
const STARTERS: Record<PeerName, (t: BenchTopology, cli?: string) => Promise<PeerPath>> = {
  direct: startDirect,
  backhaul: startBackhaul,
  proxy: startBackhaulProxy,
  sshuttle: startSshuttle,
  "ssh -w": startSshW,
};

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

// What is up right now, so Ctrl-C and the time limit still take it all down. Each cleanup is
// shared: the signal handler and the finally blocks may both ask for it, and both wait for it.
let topology: BenchTopology | undefined;
let activeStop: (() => Promise<void>) | undefined;
let interrupted = false;
const cleanupAll = once(async () => {
  await activeStop?.().catch((error: unknown) => log(`stopping the path: ${message(error)}`));
  await topology?.cleanup().catch((error: unknown) => log(`cleanup: ${message(error)}`));
});
const abort = (why: string, code: number): void => {
  interrupted = true;
  log(`${why}: cleaning up`);
  void cleanupAll().finally(() => process.exit(code));
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => abort(signal, 130));

/** Sets a path up, measures it, takes it down; false in `healthy` if R or L may not be clean. */
async function runPeer(
  t: BenchTopology,
  name: PeerName,
  options: SshBenchOptions,
  planned: PlannedRow,
  label: string,
): Promise<{ row: ResultRow; healthy: boolean }> {
  const build = planned.variant ? { variant: planned.variant.name } : {};
  const skipped = name === "sshuttle" ? sshuttleSkipReason() : undefined;
  if (skipped) return { row: { name, skipped }, healthy: true };
  log(`${label}: setting up`);
  let path: PeerPath;
  try {
    path = await STARTERS[name](t, planned.variant?.cli);
  } catch (error) {
    // Each starter takes down what it set up before it throws.
    return { row: { name, ...build, error: `setup failed: ${message(error)}` }, healthy: true };
  }
  const stop = once(() => path.stop());
  activeStop = stop;
  const row: ResultRow = { name, ...build, setup: path.setup };
  // Read at once: "just connected" is before any measurement has grown the helper.
  const helper = name === "backhaul" ? await helperPid(t) : undefined;
  const idleRss = helper === undefined ? undefined : rssMiB(helper);
  try {
    // Only curl can use the proxy entrance; the TUN entrance gets the same curl runs to compare.
    if (!path.proxy) {
      log(
        options.only === "latency"
          ? `${label}: round trips, ${options.requests} GETs`
          : `${label}: iperf3 up and down, round trips, ${options.requests} GETs, ${options.dnsQueries} digs`,
      );
      row.peer = await measurePath(t, path, options);
    }
    if (options.only !== "latency" && (name === "backhaul" || name === "proxy")) {
      log(`${label}: curl ${options.curlBytes / 2 ** 20} MiB down and up, ${options.curlGets} GETs`);
      row.curl = await measureCurl(t, path, options);
    }
    if (name === "backhaul" && options.only !== "latency") {
      log(`${label}: the helper's memory with ${HELD_FLOWS} connections held`);
      row.connection = {
        ...(path.connectMs !== undefined && { connectMs: path.connectMs }),
        ...(idleRss !== undefined && { helperRssIdleMiB: idleRss }),
        ...(helper === undefined
          ? { note: "no single helper process found in L" }
          : await rssWithFlows(t, helper)),
      };
    }
  } catch (error) {
    row.error = message(error);
  }
  try {
    await stop();
    return { row, healthy: true };
  } catch (error) {
    row.error = `${row.error ? `${row.error}; ` : ""}teardown failed: ${message(error)}`;
    return { row, healthy: false };
  } finally {
    activeStop = undefined;
  }
}

async function runRow(t: BenchTopology, planned: PlannedRow, options: SshBenchOptions, round: number) {
  const { name } = planned;
  const label =
    (options.rounds > 1 ? `round ${round + 1} ` : "") +
    (planned.variant ? `${name} ${planned.variant.name}` : name === "raw" ? "raw channel" : name);
  if (isPeer(name)) return runPeer(t, name, options, planned, label);
  log(`${label}: ${options.rawBytes / 2 ** 20} MiB each way`);
  try {
    return { row: { name, ceiling: await measureCeiling(t, options.rawBytes) }, healthy: true };
  } catch (error) {
    return { row: { name, error: message(error) }, healthy: true };
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), `${ROOT}e2e/artifacts/bench-ssh.json`);
  const skip =
    netnsSkipReason({
      tun: true,
      tools: ["ip", "iperf3", "dig", "dnsmasq", "sysctl", "getconf", "bash", "curl"],
    }) ??
    sshdSkipReason() ??
    (options.variants.length === 0
      ? existsSync(`${ROOT}dist/cli.mjs`)
        ? undefined
        : "dist/ is not built: run `npm run build` first"
      : options.variants
          .map((v) => (existsSync(v.cli) ? undefined : `${v.cli} does not exist`))
          .find(Boolean));
  if (skip) {
    log(`not run: ${skip}`);
    return 0;
  }
  const started = Date.now();
  const limitMs = overallLimitMs(options);
  setTimeout(() => abort(`over ${limitMs / 60_000} minutes`, 1), limitMs).unref();
  const rounds: ResultRow[][] = [];
  let reverse: ReverseRow[] = [];
  log("building R, L, S and the two sshd");
  topology = await buildTopology();
  try {
    // A path not taken down may have left R or L changed: nothing after it is measured.
    let notTakenDown: string | undefined;
    for (let round = 0; round < options.rounds && !interrupted && !notTakenDown; round++) {
      const measured: ResultRow[] = [];
      rounds.push(measured);
      for (const planned of roundPlan(options, round)) {
        if (interrupted || notTakenDown) break;
        const { row, healthy } = await runRow(topology, planned, options, round);
        measured.push(row);
        if (!healthy)
          notTakenDown = planned.variant ? `${planned.name} ${planned.variant.name}` : planned.name;
      }
    }
    if (options.reverse && !interrupted && !notTakenDown)
      reverse = await measureReverse(topology, options, log);
    if (notTakenDown) {
      const skipped = `not run: ${notTakenDown} was not taken down`;
      rounds.push(
        roundPlan(options, 0).map(({ name, variant }) => ({
          name,
          ...(variant ? { variant: variant.name } : {}),
          skipped,
        })),
      );
    }
  } finally {
    await cleanupAll();
  }
  if (interrupted) return 130;
  const rows = foldRounds(options, rounds);
  const { ratios, overDirect } = computeRatios(rows);
  const variantRatios = computeVariantRatios(rows);
  return publishResults({
    table: [formatTable(rows, ratios, overDirect, variantRatios), ...formatReverseTable(reverse)].join("\n"),
    out: options.out,
    write: () => {
      writeJson(options.out, options, rows, ratios, overDirect, variantRatios);
      if (reverse.length > 0) writeBenchJson(options.out.replace(/\.json$/, "-reverse.json"), { reverse });
    },
    started,
    failed: rows.some((row) => row.error) || reverse.some((row) => row.error),
    log,
  });
}

runBench(main, log, cleanupAll);
