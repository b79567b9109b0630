// The printed table (one row per path, plus the raw channel), Backhaul's ratios against each
// peer and its distance from the direct path, and the same as JSON.
import { writeBenchJson } from "../report-json.js";
import type { CeilingResult } from "./ceiling.js";
import type { CurlResult } from "./curl-transfers.js";
import type { ConnectionCost } from "./connection-cost.js";
import { formatConnectionCost, formatCostTable } from "./cost-report.js";
import {
  computeEntranceRatio,
  computeEntranceRatios,
  computeEntranceVariantRatios,
  formatEntranceTable,
} from "./entrance-report.js";
import type { PeerMeasurement } from "./measure.js";
import type { RowName, SshBenchOptions } from "./options.js";
import type { VariantRatios } from "./variants.js";
import { alignedTable, fixed, ratioLine } from "../table.js";

export interface ResultRow {
  name: RowName;
  /** Backhaul's build, under --variant. */
  variant?: string;
  setup?: string;
  peer?: PeerMeasurement;
  ceiling?: CeilingResult;
  /** The same curl transfers through Backhaul's TUN entrance (backhaul) and its proxy (proxy). */
  curl?: CurlResult;
  /** Backhaul: time to connected and the helper's memory (connection-cost.ts). */
  connection?: ConnectionCost;
  skipped?: string;
  error?: string;
}

/** Backhaul's figure ÷ the other's: throughput above 1× is faster, times above 1× slower. */
export interface Ratios {
  against: "sshuttle" | "ssh -w" | "raw";
  up?: number;
  down?: number;
  http?: number;
  rr?: number;
  dns?: number;
  remoteCpu?: number;
  localCpu?: number;
}

/** Backhaul minus the direct path: what the tunnel adds to one small exchange. */
export interface OverDirect {
  perRequestMs?: number;
  dnsUs?: number;
  rrUs?: number;
}

const divide = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;
const minus = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : a - b;

export function computeRatios(rows: readonly ResultRow[]): { ratios: Ratios[]; overDirect?: OverDirect } {
  const find = (name: RowName): ResultRow | undefined => rows.find((row) => row.name === name);
  const backhaul = find("backhaul")?.peer;
  if (!backhaul) return { ratios: [] };
  const ratios: Ratios[] = [];
  for (const against of ["sshuttle", "ssh -w"] as const) {
    const peer = find(against)?.peer;
    if (!peer) continue;
    ratios.push({
      against,
      up: divide(backhaul.upMbps, peer.upMbps),
      down: divide(backhaul.downMbps, peer.downMbps),
      http: divide(backhaul.http.totalMs, peer.http.totalMs),
      rr: divide(backhaul.rrMedianUs, peer.rrMedianUs),
      dns: divide(backhaul.dns.medianUs, peer.dns.medianUs),
      remoteCpu: divide(backhaul.remoteCpuSPerGB, peer.remoteCpuSPerGB),
      localCpu: divide(backhaul.localCpuSPerGB, peer.localCpuSPerGB),
    });
  }
  const raw = find("raw")?.ceiling;
  // Up (R -> S) rides the channel R -> L (pull); down rides L -> R (push).
  if (raw)
    ratios.push({
      against: "raw",
      up: divide(backhaul.upMbps, raw.pullMbps),
      down: divide(backhaul.downMbps, raw.pushMbps),
    });
  const direct = find("direct")?.peer;
  const overDirect = direct && {
    perRequestMs: minus(backhaul.http.perRequestMs, direct.http.perRequestMs),
    dnsUs: minus(backhaul.dns.medianUs, direct.dns.medianUs),
    rrUs: minus(backhaul.rrMedianUs, direct.rrMedianUs),
  };
  return { ratios, ...(overDirect && { overDirect }) };
}

const signed = (value: number | undefined, digits: number, unit: string): string =>
  value === undefined || !Number.isFinite(value)
    ? "—"
    : `${value >= 0 ? "+" : ""}${value.toFixed(digits)} ${unit}`;

const HEADER = [
  "path",
  "up Mbit/s",
  "down Mbit/s",
  "GETs total ms",
  "ms/GET",
  "GET p50 ms",
  "RR p50 µs",
  "DNS p50 µs",
  "CPU s/GB R",
  "CPU s/GB L",
];

function cells(row: ResultRow, note: (text: string) => number): string[] {
  const label = row.name === "raw" ? "raw channel" : row.variant ? `${row.name} ${row.variant}` : row.name;
  const problem = row.error ?? row.skipped;
  if (problem || (!row.peer && !row.ceiling && !row.curl)) {
    const index = note(`${label}: ${problem ?? "no result"}`);
    return [label, row.error ? `failed [${index}]` : `skipped [${index}]`];
  }
  if (row.ceiling) {
    return [
      label,
      fixed(row.ceiling.pullMbps, 0),
      fixed(row.ceiling.pushMbps, 0),
      ...Array<string>(7).fill("—"),
    ];
  }
  if (!row.peer) {
    // The proxy row: only curl can use a proxy; its figures are in the second table.
    return [
      label,
      ...Array<string>(7).fill("—"),
      fixed(row.curl?.remoteCpuSPerGB, 2),
      fixed(row.curl?.localCpuSPerGB, 2),
    ];
  }
  const p = row.peer;
  const cpu = (value: number | undefined): string => (row.name === "direct" ? "kernel" : fixed(value, 2));
  return [
    label,
    fixed(p.upMbps, 0),
    fixed(p.downMbps, 0),
    fixed(p.http.totalMs, 0),
    fixed(p.http.perRequestMs, 2),
    fixed(p.http.medianMs, 2),
    fixed(p.rrMedianUs, 0),
    fixed(p.dns.medianUs, 0),
    cpu(p.remoteCpuSPerGB),
    cpu(p.localCpuSPerGB),
  ];
}

/** Lines followed by one blank line; nothing at all when there are none. */
const block = (lines: readonly string[]): string[] => (lines.length > 0 ? [...lines, ""] : []);

/** The ratio lines' figures: Ratios' fields and their labels. */
const FIGURES = {
  up: "up",
  down: "down",
  http: "GETs",
  rr: "RR",
  dns: "DNS",
  remoteCpu: "CPU R",
  localCpu: "CPU L",
} as const;

export function formatTable(
  rows: readonly ResultRow[],
  ratios: readonly Ratios[],
  overDirect?: OverDirect,
  variantRatios: readonly VariantRatios[] = [],
): string {
  const notes: string[] = [];
  const note = (text: string): number => notes.push(`[${notes.length + 1}] ${text}`);
  const entrances = formatEntranceTable(rows);
  const lines = rows.map((row) => cells(row, note));
  const direct = overDirect
    ? [
        `${"Backhaul − direct:".padEnd(26)}${signed(overDirect.perRequestMs, 2, "ms")} per GET (goal: within 1 ms)  ` +
          `RR ${signed(overDirect.rrUs, 0, "µs")}  DNS ${signed(overDirect.dnsUs, 0, "µs")}`,
      ]
    : [];
  return [
    ...alignedTable(HEADER, lines, (i) => i !== 0),
    "",
    ...block([
      ...ratios.map((ratio) =>
        ratioLine(`Backhaul ÷ ${ratio.against === "raw" ? "raw channel" : ratio.against}`, ratio, FIGURES),
      ),
      ...direct,
      ...variantRatios.map((ratio) => ratioLine(`${ratio.variant} ÷ ${ratio.against}`, ratio, FIGURES)),
    ]),
    ...block(entrances),
    ...formatCostTable(rows),
    ...block(formatConnectionCost(rows)),
    "Ratios: Backhaul's figure ÷ the peer's: up and down above 1× are faster; GETs (total time), RR,",
    "DNS and CPU above 1× are slower or costlier. Backhaul − direct: what the tunnel adds.",
    "up: R -> S, down: S -> R (iperf3 TCP, one stream, IPv4). GETs: sequential GET / from a Node client",
    "in R, each on a new TCP connection. RR: 1-byte round trips over one TCP connection (median).",
    "DNS: `dig -u host.corp.test` in R through R's resolv.conf (Backhaul: the agent's stub, answered",
    "by L's resolver with Backhaul's cache; sshuttle: --dns; ssh -w and direct: S's dnsmasq itself).",
    "raw channel: one ssh2 exec channel L <-> R (aes128-gcm): up = R -> L, down = L -> R.",
    "CPU s/GB: utime+stime of every process in R / in L (sshd, ssh, sudo, agent, CLI, Python) during",
    "the iperf3 and RR runs ÷ bytes moved by iperf3 (proxy: during curl's bulk transfers, see above).",
    "proxy: Backhaul's proxy entrance; iperf3, RR, dig and the Node GETs cannot use it: curl only.",
    "All SSH paths use aes128-gcm@openssh.com.",
    ...(variantRatios.length > 0
      ? [
          "backhaul NAME, proxy NAME: one build each (--variant); NAME ÷ FIRST: that build's figure ÷ the first's,",
          "read as above. Backhaul ÷ peer and − direct use the first build. Several rounds: medians.",
        ]
      : []),
    ...notes,
  ].join("\n");
}

export function writeJson(
  file: string,
  options: SshBenchOptions,
  rows: readonly ResultRow[],
  ratios: readonly Ratios[],
  overDirect?: OverDirect,
  variantRatios: readonly VariantRatios[] = [],
): void {
  writeBenchJson(file, {
    options,
    rows,
    ratios,
    backhaulOverDirect: overDirect ?? null,
    variantRatios,
    proxyOverTun: computeEntranceRatio(rows, rows.find((row) => row.name === "proxy")?.variant) ?? null,
    proxyOverTunByBuild: computeEntranceRatios(rows),
    entranceVariantRatios: computeEntranceVariantRatios(rows),
  });
}
