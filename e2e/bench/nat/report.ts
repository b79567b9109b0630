// The printed table (rows path x MTU x IP family) with the NAT engine's ratios against its peers,
// and the same results as JSON.
import { writeBenchJson } from "../report-json.js";
import type { Measurement } from "./measure.js";
import type { BenchOptions, Family, PathName } from "./options.js";
import { alignedTable, fixed, ratioFigures } from "../table.js";

export interface ResultRow {
  path: PathName;
  mtu: number;
  family: Family;
  result?: Measurement;
  skipped?: string;
  error?: string;
}

/** Backhaul's figure divided by a peer's, at the same MTU and family. */
export interface Ratios {
  mtu: number;
  family: Family;
  against: "kernel" | "slirp4netns";
  up?: number;
  down?: number;
  rrMedian?: number;
  rrP99?: number;
  exitCpu?: number;
}

function divide(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export function computeRatios(rows: readonly ResultRow[]): Ratios[] {
  const find = (path: PathName, row: ResultRow): Measurement | undefined =>
    rows.find((r) => r.path === path && r.mtu === row.mtu && r.family === row.family)?.result;
  const ratios: Ratios[] = [];
  for (const row of rows) {
    const nat = row.result;
    if (row.path !== "backhaul" || !nat) continue;
    for (const against of ["kernel", "slirp4netns"] as const) {
      const peer = find(against, row);
      if (!peer) continue;
      ratios.push({
        mtu: row.mtu,
        family: row.family,
        against,
        up: divide(nat.upMbps, peer.upMbps),
        down: divide(nat.downMbps, peer.downMbps),
        rrMedian: divide(nat.rrMedianUs, peer.rrMedianUs),
        rrP99: divide(nat.rrP99Us, peer.rrP99Us),
        exitCpu: divide(nat.exitCpuSPerGB, peer.exitCpuSPerGB),
      });
    }
  }
  return ratios;
}

function ratioCell(ratio: Ratios | undefined): string {
  if (!ratio) return "";
  return ratioFigures(
    [
      ["up", ratio.up],
      ["dn", ratio.down],
      ["rr", ratio.rrMedian],
      ["cpu", ratio.exitCpu],
    ],
    " ",
  );
}

function cpuCell(row: ResultRow, value: number | undefined, side: "exit" | "entrance"): string {
  if (row.path === "kernel") return "kernel";
  if (row.path === "slirp4netns" && side === "entrance") return "kernel"; // R's side is a tap
  return fixed(value, 2);
}

export function formatTable(rows: readonly ResultRow[], ratios: readonly Ratios[]): string {
  const header = [
    "path",
    "MTU",
    "IP",
    "up Mbit/s",
    "down Mbit/s",
    "RR p50 µs",
    "RR p99 µs",
    "CPU s/GB exit",
    "CPU s/GB entrance",
    "NAT/kernel",
    "NAT/slirp",
  ];
  const notes: string[] = [];
  const lines = rows.map((row) => {
    const ratio = (against: Ratios["against"]): Ratios | undefined =>
      row.path === "backhaul"
        ? ratios.find((r) => r.against === against && r.mtu === row.mtu && r.family === row.family)
        : undefined;
    const start = [row.path, String(row.mtu), `v${row.family}`];
    const problem = row.error ?? row.skipped;
    if (!row.result || problem) {
      notes.push(
        `[${notes.length + 1}] ${row.path} MTU ${row.mtu} IPv${row.family}: ${problem ?? "no result"}`,
      );
      return [...start, row.error ? `failed [${notes.length}]` : `skipped [${notes.length}]`];
    }
    const r = row.result;
    return [
      ...start,
      fixed(r.upMbps, 0),
      fixed(r.downMbps, 0),
      fixed(r.rrMedianUs, 0),
      fixed(r.rrP99Us, 0),
      cpuCell(row, r.exitCpuSPerGB, "exit"),
      cpuCell(row, r.entranceCpuSPerGB, "entrance"),
      ratioCell(ratio("kernel")),
      ratioCell(ratio("slirp4netns")),
    ];
  });
  return [
    ...alignedTable(header, lines, (i) => i >= 1 && i <= 8),
    "",
    "up: R -> S, down: S -> R (iperf3 TCP, one stream). RR: sequential 1-byte round trips over one TCP",
    "connection from a Node client in R to S's echo server (Node), after 500 unmeasured ones.",
    "Ratios: Backhaul's NAT engine ÷ the peer at the same MTU and IP family. up/dn above 1× is faster;",
    "rr (median round trip) and cpu (exit-side CPU per GB) above 1× are slower / costlier.",
    "CPU s/GB: utime+stime of the forwarding process during both iperf3 runs ÷ bytes moved;",
    '"kernel" where the kernel does that side\'s work (no process to charge).',
    ...notes,
  ].join("\n");
}

export function writeJson(file: string, options: BenchOptions, rows: ResultRow[], ratios: Ratios[]): void {
  writeBenchJson(file, { options, rows, ratios });
}
