/**
 * Small-request latency only, A/B: the direct path and one or more builds of Backhaul, measured in
 * alternation over several rounds in the same topology as `npm run bench` (ssh/topology.ts), so
 * that each build is compared with the direct path of the same moment on a noisy machine.
 *   npm run bench:latency -- [--variant NAME=PATH/TO/cli.mjs ...] [--rounds 3]
 *       [--requests 200] [--round-trips 1000] [--far-ms N] [--hops]
 * Without --variant: dist/cli.mjs. A variant is a copy of dist/ (cli.mjs, helper-local.mjs and
 * agent/) from another build, placed where it still finds node_modules (a node_modules symlink
 * beside it). Per round and variant: 1-byte round trips over one TCP connection (median, and CPU
 * per round trip of the forwarding processes in R and L) and sequential GETs on new connections
 * (ms per GET); the order of the variants rotates each round. Medians over the rounds, and each
 * round's difference to the direct path, at the end. Differences under about 10 % need many
 * rounds on a 2-core machine shared with other work. --far-ms N measures against S's far
 * address instead, N ms of round trip away behind a delay line (a destination behind a VPN), with
 * fewer round trips and requests worth using. --hops: after each Backhaul run's GETs, as many
 * again under tcpdump in R and L, and where their time goes hop by hop (ssh/get-hops.ts; tcpdump
 * adds its own cost, so the hops add up to more than an unwatched GET). Needs root and a build;
 * otherwise says why and exits 0.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { netnsSkipReason } from "../netns/index.js";
import { sshdSkipReason } from "../sshd/preconditions.js";
import { requestResponse } from "./nat/measure.js";
import { cpuSince, sampleNamespace } from "./ssh/cpu-group.js";
import { http, natView } from "./ssh/measure.js";
import type { PeerPath } from "./ssh/path.js";
import { startBackhaul } from "./ssh/path-backhaul.js";
import { startDirect } from "./ssh/path-direct.js";
import { buildTopology, type BenchTopology } from "./ssh/topology.js";
import { BENCH, CORP_NET } from "../netns/address-plan.js";
import { message, runBench } from "./bench-run.js";
import { positiveInteger } from "./flags.js";
import { parseVariant, type Variant } from "./ssh/options.js";
import { formatHops, getHops, startCaptures, type GetHops } from "./ssh/get-hops.js";

const ROOT = new URL("../..", import.meta.url).pathname;

const log = (line: string): void => void process.stderr.write(`bench:latency: ${line}\n`);

const LATENCY_USAGE =
  "usage: npm run bench:latency -- [--variant NAME=PATH/TO/cli.mjs ...] [--rounds 3] [--requests 200] [--round-trips 1000] [--far-ms N] [--hops]";

const { values } = parseArgs({
  options: {
    variant: { type: "string", multiple: true, default: [] },
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "200" },
    "round-trips": { type: "string", default: "1000" },
    "far-ms": { type: "string" },
    hops: { type: "boolean", default: false },
  },
});
const variants = (values.variant.length > 0 ? values.variant : [`dist=${ROOT}dist/cli.mjs`]).reduce<
  Variant[]
>((taken, spec) => [...taken, parseVariant(spec, taken, LATENCY_USAGE)], []);
const integer = (flag: string, value: string, max: number): number =>
  positiveInteger(flag, value, max, LATENCY_USAGE);
const rounds = integer("rounds", values.rounds, 100);
const requests = integer("requests", values.requests, 10_000);
const roundTrips = integer("round-trips", values["round-trips"], 100_000);
/** Round trip added between L and the host measured: S's far address behind a delay line. */
const farMs = values["far-ms"] === undefined ? undefined : integer("far-ms", values["far-ms"], 1_000);
const target = farMs === undefined ? CORP_NET.host.v4 : BENCH.farHost;
/** Far above a normal run (under a minute per path and round): only a hang gets here. */
const OVERALL_LIMIT_MS = Math.max(20, 2 * rounds * (variants.length + 1)) * 60_000;

interface Sample {
  rrUs: number;
  /** CPU µs per round trip of the processes already in R and in L (agent, sshd, CLI). */
  cpuRUs: number;
  cpuLUs: number;
  getMs: number;
  getP50Ms: number;
  /** With --hops: the watched GETs, hop by hop. */
  hops?: GetHops[];
}

let topology: BenchTopology | undefined;
let active: PeerPath | undefined;
let interrupted = false;
const cleanup = async (): Promise<void> => {
  await active?.stop().catch((error: unknown) => log(`stopping: ${message(error)}`));
  active = undefined;
  await topology?.cleanup().catch((error: unknown) => log(`cleanup: ${message(error)}`));
  topology = undefined;
};
const abort = (why: string, code: number): void => {
  interrupted = true;
  log(`${why}: cleaning up`);
  void cleanup().finally(() => process.exit(code));
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => abort(signal, 130));

async function measureOnce(t: BenchTopology, start: () => Promise<PeerPath>): Promise<Sample> {
  const path = await start();
  active = path;
  try {
    const view = natView(t, path, target);
    const remoteBefore = await sampleNamespace(t.remote);
    const localBefore = await sampleNamespace(t.local);
    const rr = await requestResponse(view, target, roundTrips);
    // Includes the client's 500 warm-up round trips.
    const perRr = (seconds: number): number => (seconds * 1e6) / (roundTrips + 500);
    const cpuRUs = perRr(await cpuSince(remoteBefore));
    const cpuLUs = perRr(await cpuSince(localBefore));
    const get = await http(t, requests, target);
    const sample: Sample = {
      rrUs: rr.medianUs,
      cpuRUs,
      cpuLUs,
      getMs: get.perRequestMs,
      getP50Ms: get.medianMs,
    };
    if (!values.hops || path.name !== "backhaul") return sample;
    const tun = (await t.remote.runChecked("ip", ["-o", "link", "show", "type", "tun"])).stdout;
    const captures = startCaptures(t.remote, t.local);
    // tcpdump needs a moment to attach before the first GET is worth reading.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    try {
      await http(t, requests, target);
    } finally {
      const packets = await captures.stop();
      sample.hops = getHops(packets, /^\d+:\s*([^:@]+)/.exec(tun)?.[1] ?? "");
    }
    return sample;
  } finally {
    active = undefined;
    await path.stop();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

async function main(): Promise<number> {
  const skip =
    netnsSkipReason({
      tun: true,
      tools: [
        "ip",
        "iperf3",
        "dig",
        "dnsmasq",
        "sysctl",
        "getconf",
        "bash",
        ...(values.hops ? ["tcpdump"] : []),
      ],
    }) ??
    sshdSkipReason() ??
    variants.map((v) => (existsSync(v.cli) ? undefined : `${v.cli} does not exist`)).find(Boolean);
  if (skip) {
    log(`not run: ${skip}`);
    return 0;
  }
  setTimeout(() => abort(`over ${OVERALL_LIMIT_MS / 60_000} minutes`, 1), OVERALL_LIMIT_MS).unref();
  log(
    `building R, L, S and the two sshd${farMs === undefined ? "" : `, and D: ${farMs} ms more to ${BENCH.farHost}`}`,
  );
  const t = await buildTopology(farMs === undefined ? {} : { farOneWayMs: farMs / 2 });
  topology = t;
  const results = new Map<string, { sample: Sample; direct: Sample }[]>(variants.map((v) => [v.name, []]));
  try {
    for (let round = 0; round < rounds && !interrupted; round++) {
      const direct = await measureOnce(t, () => startDirect(t));
      log(`round ${round + 1} direct: RR ${direct.rrUs.toFixed(0)} µs, ${direct.getMs.toFixed(3)} ms/GET`);
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const variant of order) {
        if (interrupted) break;
        const sample = await measureOnce(t, () => startBackhaul(t, variant.cli));
        results.get(variant.name)!.push({ sample, direct });
        log(
          `round ${round + 1} ${variant.name}: RR ${sample.rrUs.toFixed(0)} µs (+${(sample.rrUs - direct.rrUs).toFixed(0)}), ` +
            `CPU/RR R ${sample.cpuRUs.toFixed(0)} µs L ${sample.cpuLUs.toFixed(0)} µs, ` +
            `${sample.getMs.toFixed(3)} ms/GET (+${(sample.getMs - direct.getMs).toFixed(3)}, ` +
            `${(sample.getMs / direct.getMs).toFixed(2)}×)`,
        );
      }
    }
  } finally {
    await cleanup();
  }
  if (interrupted) return 130;
  const lines = [
    "variant  RR p50 µs  RR − direct  ms/GET  GET − direct  GET ÷ direct  CPU/RR R µs  L µs  (medians over rounds)",
  ];
  for (const variant of variants) {
    const runs = results.get(variant.name)!;
    const rr = median(runs.map((r) => r.sample.rrUs));
    const rrOver = median(runs.map((r) => r.sample.rrUs - r.direct.rrUs));
    const get = median(runs.map((r) => r.sample.getMs));
    const getOver = median(runs.map((r) => r.sample.getMs - r.direct.getMs));
    const ratio = median(runs.map((r) => r.sample.getMs / r.direct.getMs));
    lines.push(
      `${variant.name.padEnd(8)} ${rr.toFixed(0).padStart(8)}  ${rrOver.toFixed(0).padStart(11)}  ` +
        `${get.toFixed(3).padStart(6)}  ${getOver.toFixed(3).padStart(12)}  ${ratio.toFixed(2).padStart(11)}×  ` +
        `${median(runs.map((r) => r.sample.cpuRUs))
          .toFixed(0)
          .padStart(11)}  ` +
        `${median(runs.map((r) => r.sample.cpuLUs))
          .toFixed(0)
          .padStart(4)}`,
    );
  }
  const directRuns = [...results.values()][0]?.map((r) => r.direct) ?? [];
  lines.push(
    `direct   ${median(directRuns.map((d) => d.rrUs))
      .toFixed(0)
      .padStart(8)}  ${"".padStart(11)}  ` +
      `${median(directRuns.map((d) => d.getMs))
        .toFixed(3)
        .padStart(6)}`,
  );
  if (values.hops)
    for (const variant of variants)
      lines.push(
        ...formatHops(
          variant.name,
          results.get(variant.name)!.flatMap((r) => r.sample.hops ?? []),
        ),
      );
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

runBench(main, log, cleanup);
