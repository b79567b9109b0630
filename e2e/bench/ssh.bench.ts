/**
 * `npm run bench`: Backhaul over SSH side by side with its peers, R -> S in network namespaces
 * (DESIGN.md "Test topology", "Performance notes"; the layout is in ssh/topology.ts):
 *   direct     L's kernel forwards, no tunnel: the reference for small requests
 *   backhaul   `backhaul connect` in L over OpenSSH in R (dist/cli.mjs)
 *   sshuttle   sshuttle in R, logged in to a root sshd in L
 *   ssh -w     OpenSSH's tun forwarding R <-> L, kernel forwarding in L
 *   raw        one ssh2 exec channel L <-> R: the ceiling for anything carried over SSH
 * Per path: iperf3 TCP both ways, 200 sequential small HTTP requests, 1-byte round trips, dig
 * latency, CPU per GB on each side. Prints a table with Backhaul's ratios; writes
 * e2e/artifacts/bench-ssh.json. Needs root and `npm run build`; otherwise says why and exits 0.
 * `--only latency`: only the round trips and the GETs (a quick A/B; builds compared in
 * alternation: ssh-latency.bench.ts).
 */
import { existsSync } from "node:fs";
import { netnsSkipReason } from "../netns/index.js";
import { sshdSkipReason } from "../sshd/preconditions.js";
import { measureCeiling } from "./ssh/ceiling.js";
import { measurePath } from "./ssh/measure.js";
import { isPeer, parseOptions, type RowName, type SshBenchOptions } from "./ssh/options.js";
import type { PeerName, PeerPath } from "./ssh/path.js";
import { startBackhaul } from "./ssh/path-backhaul.js";
import { startDirect } from "./ssh/path-direct.js";
import { startSshuttle, sshuttleSkipReason } from "./ssh/path-sshuttle.js";
import { startSshW } from "./ssh/path-sshw.js";
import { computeRatios, formatTable, writeJson, type ResultRow } from "./ssh/report.js";
import { buildTopology, type BenchTopology } from "./ssh/topology.js";

const ROOT = new URL("../..", import.meta.url).pathname;
/** Far above a normal run (about 2 minutes): only a hang gets here. */
const OVERALL_LIMIT_MS = 8 * 60_000;
const STARTERS: Record<PeerName, (t: BenchTopology) => Promise<PeerPath>> = {
  direct: startDirect,
  backhaul: startBackhaul,
  sshuttle: startSshuttle,
  "ssh -w": startSshW,
};

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function once(run: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => (promise ??= run());
}

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
): Promise<{ row: ResultRow; healthy: boolean }> {
  const skipped = name === "sshuttle" ? sshuttleSkipReason() : undefined;
  if (skipped) return { row: { name, skipped }, healthy: true };
  log(`${name}: setting up`);
  let path: PeerPath;
  try {
    path = await STARTERS[name](t);
  } catch (error) {
    // Each starter takes down what it set up before it throws.
    return { row: { name, error: `setup failed: ${message(error)}` }, healthy: true };
  }
  const stop = once(() => path.stop());
  activeStop = stop;
  const row: ResultRow = { name, setup: path.setup };
  try {
    log(
      options.only === "latency"
        ? `${name}: round trips, ${options.requests} GETs`
        : `${name}: iperf3 up and down, round trips, ${options.requests} GETs, ${options.dnsQueries} digs`,
    );
    row.peer = await measurePath(t, path, options);
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

async function runRow(t: BenchTopology, name: RowName, options: SshBenchOptions) {
  if (isPeer(name)) return runPeer(t, name, options);
  log(`raw channel: ${options.rawBytes / 2 ** 20} MiB each way`);
  try {
    return { row: { name, ceiling: await measureCeiling(t, options.rawBytes) }, healthy: true };
  } catch (error) {
    return { row: { name, error: message(error) }, healthy: true };
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), `${ROOT}e2e/artifacts/bench-ssh.json`);
  const skip =
    netnsSkipReason({ tun: true, tools: ["ip", "iperf3", "dig", "dnsmasq", "sysctl", "getconf", "bash"] }) ??
    sshdSkipReason() ??
    (existsSync(`${ROOT}dist/cli.mjs`) ? undefined : "dist/ is not built: run `npm run build` first");
  if (skip) {
    log(`not run: ${skip}`);
    return 0;
  }
  const started = Date.now();
  setTimeout(() => abort(`over ${OVERALL_LIMIT_MS / 60_000} minutes`, 1), OVERALL_LIMIT_MS).unref();
  const rows: ResultRow[] = [];
  log("building R, L, S and the two sshd");
  topology = await buildTopology();
  try {
    for (const [index, name] of options.rows.entries()) {
      if (interrupted) break;
      const { row, healthy } = await runRow(topology, name, options);
      rows.push(row);
      if (!healthy) {
        const rest = options.rows.slice(index + 1);
        rows.push(
          ...rest.map((skipped) => ({ name: skipped, skipped: `not run: ${name} was not taken down` })),
        );
        break;
      }
    }
  } finally {
    await cleanupAll();
  }
  if (interrupted) return 130;
  const { ratios, overDirect } = computeRatios(rows);
  process.stdout.write(`${formatTable(rows, ratios, overDirect)}\n`);
  writeJson(options.out, options, rows, ratios, overDirect);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${options.out}`);
  return rows.some((row) => row.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(message(error));
    void cleanupAll().finally(() => process.exit(1));
  },
);
