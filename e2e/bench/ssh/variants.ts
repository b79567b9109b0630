// `npm run bench --variant`: Backhaul's builds side by side. Each round measures every row once,
// the builds in an order that rotates from round to round, so that none always runs first or right
// after the same peer; the rounds are then folded into one row per path and build (medians), and
// each build is compared with the first.
import type { CeilingResult } from "./ceiling.js";
import type { CurlResult } from "./curl-transfers.js";
import type { GcPerGB } from "./gc-count.js";
import type { PeerMeasurement, ProcessBulkCost } from "./measure.js";
import type { RowName, SshBenchOptions, Variant } from "./options.js";
import type { Ratios, ResultRow } from "./report.js";

/** One row to measure in a round: a path, and for Backhaul under --variant, which build. */
export interface PlannedRow {
  name: RowName;
  variant?: Variant;
}

/** Each build ÷ the first, figure by figure, read as report.ts's Ratios. */
export type VariantRatios = Omit<Ratios, "against"> & { variant: string; against: string };

/** The rows that run a build of Backhaul: both entrances follow --variant. */
export const isBackhaulRow = (name: RowName): boolean => name === "backhaul" || name === "proxy";

/** The rows of round `round` (from 0), in order: the variants, rotated, where Backhaul's rows are. */
export function roundPlan(options: Pick<SshBenchOptions, "rows" | "variants">, round: number): PlannedRow[] {
  const shift = options.variants.length === 0 ? 0 : round % options.variants.length;
  const rotated = [...options.variants.slice(shift), ...options.variants.slice(0, shift)];
  return options.rows.flatMap((name): PlannedRow[] =>
    isBackhaulRow(name) && rotated.length > 0 ? rotated.map((variant) => ({ name, variant })) : [{ name }],
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function medianOf<T>(samples: readonly T[], pick: (sample: T) => number | undefined): number | undefined {
  const values = samples.map(pick).filter((value): value is number => value !== undefined);
  return values.length === 0 ? undefined : median(values);
}

/** "helper", "sshd: bhdev@notty" #2...: the same process from round to round (PIDs change). */
function processKeys(processes: readonly ProcessBulkCost[]): string[] {
  const seen = new Map<string, number>();
  return processes.map((p) => {
    const name = `${p.side} ${p.process}`;
    const nth = (seen.get(name) ?? 0) + 1;
    seen.set(name, nth);
    return `${name} #${nth}`;
  });
}

/**
 * The first round's processes (their PIDs are those of its round-trip counts), each figure the
 * median over the rounds that had that process; collections "not counted" if any round did not.
 */
export function medianProcesses(rounds: readonly (readonly ProcessBulkCost[])[]): ProcessBulkCost[] {
  const byKey = new Map<string, ProcessBulkCost[]>();
  for (const processes of rounds) {
    const keys = processKeys(processes);
    processes.forEach((p, i) => {
      const key = keys[i] ?? "";
      byKey.set(key, [...(byKey.get(key) ?? []), p]);
    });
  }
  const [first = []] = rounds;
  const keys = processKeys(first);
  return first.map((p, i) => {
    const same = byKey.get(keys[i] ?? "") ?? [p];
    const gcs = same.map((s) => s.gc);
    const counted = gcs.filter((gc): gc is GcPerGB => typeof gc === "object");
    const of = (pick: (gc: GcPerGB) => number): number => medianOf(counted, pick) ?? NaN;
    const gc: ProcessBulkCost["gc"] = gcs.includes("not counted")
      ? "not counted"
      : counted.length > 0
        ? {
            majorPerGB: of((g) => g.majorPerGB),
            minorPerGB: of((g) => g.minorPerGB),
            msPerGB: of((g) => g.msPerGB),
          }
        : undefined;
    return {
      side: p.side,
      pid: p.pid,
      process: p.process,
      cpuSPerGB: medianOf(same, (s) => s.cpuSPerGB) ?? NaN,
      ...(gc && { gc }),
    };
  });
}

function medianPeer(samples: readonly PeerMeasurement[]): PeerMeasurement {
  const of = (pick: (sample: PeerMeasurement) => number | undefined): number =>
    medianOf(samples, pick) ?? NaN;
  const first = samples[0];
  const remoteCpuSPerGB = medianOf(samples, (s) => s.remoteCpuSPerGB);
  const localCpuSPerGB = medianOf(samples, (s) => s.localCpuSPerGB);
  return {
    upMbps: of((s) => s.upMbps),
    downMbps: of((s) => s.downMbps),
    rrMedianUs: of((s) => s.rrMedianUs),
    rrP99Us: of((s) => s.rrP99Us),
    bytesMoved: of((s) => s.bytesMoved),
    http: {
      count: of((s) => s.http.count),
      totalMs: of((s) => s.http.totalMs),
      perRequestMs: of((s) => s.http.perRequestMs),
      medianMs: of((s) => s.http.medianMs),
      p99Ms: of((s) => s.http.p99Ms),
    },
    dns: {
      server: first?.dns.server ?? "unknown",
      count: of((s) => s.dns.count),
      medianUs: of((s) => s.dns.medianUs),
      p90Us: of((s) => s.dns.p90Us),
    },
    ...(remoteCpuSPerGB === undefined ? {} : { remoteCpuSPerGB }),
    ...(localCpuSPerGB === undefined ? {} : { localCpuSPerGB }),
    // Counts per round trip barely move between rounds: the first round's stand for all.
    ...(first?.roundTripCost && { roundTripCost: first.roundTripCost }),
    // Per process, keyed by the PIDs of that same round's processes: the first round's too.
    ...(first?.cpuByPid && { cpuByPid: first.cpuByPid }),
    // Per process again, the first round's, each figure the median of its rounds.
    ...(first?.processes && {
      processes: medianProcesses(samples.flatMap((s) => (s.processes ? [s.processes] : []))),
    }),
  };
}

function medianCeiling(samples: readonly CeilingResult[]): CeilingResult {
  return {
    cipher: samples[0]?.cipher ?? "unknown",
    pushMbps: medianOf(samples, (s) => s.pushMbps) ?? NaN,
    pullMbps: medianOf(samples, (s) => s.pullMbps) ?? NaN,
    bytes: medianOf(samples, (s) => s.bytes) ?? NaN,
  };
}

function medianCurl(samples: readonly CurlResult[]): CurlResult {
  const of = (pick: (sample: CurlResult) => number): number => medianOf(samples, pick) ?? NaN;
  return {
    bytes: of((s) => s.bytes),
    downMBps: of((s) => s.downMBps),
    upMBps: of((s) => s.upMBps),
    gets: of((s) => s.gets),
    getMedianMs: of((s) => s.getMedianMs),
    getP90Ms: of((s) => s.getP90Ms),
    remoteCpuSPerGB: of((s) => s.remoteCpuSPerGB),
    localCpuSPerGB: of((s) => s.localCpuSPerGB),
  };
}

/** One row from its rounds: a failure in any round marks it failed; otherwise the medians. */
function foldRow(row: PlannedRow, samples: readonly ResultRow[]): ResultRow {
  const folded: ResultRow = { name: row.name, ...(row.variant ? { variant: row.variant.name } : {}) };
  const setup = samples.find((sample) => sample.setup)?.setup;
  if (setup) folded.setup = setup;
  const inRound = (text: string, index: number): string =>
    samples.length > 1 ? `round ${index + 1}: ${text}` : text;
  const errors = samples.flatMap((sample, index) => (sample.error ? [inRound(sample.error, index)] : []));
  if (errors.length > 0) folded.error = errors.join("; ");
  const peers = samples.flatMap((sample) => (sample.peer ? [sample.peer] : []));
  const ceilings = samples.flatMap((sample) => (sample.ceiling ? [sample.ceiling] : []));
  if (peers.length > 0) folded.peer = medianPeer(peers);
  if (ceilings.length > 0) folded.ceiling = medianCeiling(ceilings);
  const curls = samples.flatMap((sample) => (sample.curl ? [sample.curl] : []));
  if (curls.length > 0) folded.curl = medianCurl(curls);
  // Time to connected and memory: the first round's (a later connect reuses the uploaded agent).
  const connection = samples.find((sample) => sample.connection)?.connection;
  if (connection) folded.connection = connection;
  if (!folded.error && peers.length === 0 && ceilings.length === 0 && curls.length === 0) {
    folded.skipped = samples.find((sample) => sample.skipped)?.skipped ?? "not run";
  }
  return folded;
}

/** The table's rows: each planned row once (the variants in the order given), over all rounds. */
export function foldRounds(
  options: Pick<SshBenchOptions, "rows" | "variants">,
  rounds: ResultRow[][],
): ResultRow[] {
  return roundPlan(options, 0).map((row) =>
    foldRow(
      row,
      rounds.flatMap((measured) =>
        measured.filter((sample) => sample.name === row.name && sample.variant === row.variant?.name),
      ),
    ),
  );
}

const divide = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

/** Every Backhaul build after the first ÷ the first. */
export function computeVariantRatios(rows: readonly ResultRow[]): VariantRatios[] {
  const builds = rows.filter((row) => row.name === "backhaul" && row.variant !== undefined);
  const [first, ...rest] = builds;
  const base = first?.peer;
  if (!first?.variant || !base) return [];
  return rest.flatMap((row): VariantRatios[] => {
    const peer = row.peer;
    if (!peer || !row.variant) return [];
    return [
      {
        variant: row.variant,
        against: first.variant ?? "",
        up: divide(peer.upMbps, base.upMbps),
        down: divide(peer.downMbps, base.downMbps),
        http: divide(peer.http.totalMs, base.http.totalMs),
        rr: divide(peer.rrMedianUs, base.rrMedianUs),
        dns: divide(peer.dns.medianUs, base.dns.medianUs),
        remoteCpu: divide(peer.remoteCpuSPerGB, base.remoteCpuSPerGB),
        localCpu: divide(peer.localCpuSPerGB, base.localCpuSPerGB),
      },
    ];
  });
}
