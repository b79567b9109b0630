// The second table of `npm run bench`: the same curl transfers through Backhaul's TUN entrance
// (row "backhaul") and its proxy entrance (row "proxy"), and the proxy's figures ÷ the TUN's.
import type { CurlResult } from "./curl-transfers.js";
import type { ResultRow } from "./report.js";

/** Proxy ÷ TUN: down and up above 1× are faster; ms/GET and CPU above 1× slower or costlier. */
export interface EntranceRatio {
  down?: number;
  up?: number;
  getMs?: number;
  remoteCpu?: number;
  localCpu?: number;
}

const ENTRANCES = [
  ["backhaul", "TUN (backhaul)"],
  ["proxy", "proxy"],
] as const;

const divide = (a: number, b: number): number | undefined =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : undefined;

const curlOf = (rows: readonly ResultRow[], name: "backhaul" | "proxy"): CurlResult | undefined =>
  rows.find((row) => row.name === name && !row.error)?.curl;

export function computeEntranceRatio(rows: readonly ResultRow[]): EntranceRatio | undefined {
  const tun = curlOf(rows, "backhaul");
  const proxy = curlOf(rows, "proxy");
  if (!tun || !proxy) return undefined;
  return {
    down: divide(proxy.downMBps, tun.downMBps),
    up: divide(proxy.upMBps, tun.upMBps),
    getMs: divide(proxy.getMedianMs, tun.getMedianMs),
    remoteCpu: divide(proxy.remoteCpuSPerGB, tun.remoteCpuSPerGB),
    localCpu: divide(proxy.localCpuSPerGB, tun.localCpuSPerGB),
  };
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
const times = (label: string, value: number | undefined): string =>
  value === undefined ? "" : `${label} ${value.toFixed(2)}×`;

const HEADER = ["entrance", "down MB/s", "up MB/s", "ms/GET p50", "ms/GET p90", "CPU s/GB R", "CPU s/GB L"];

/** Empty when neither entrance was measured with curl (not in --path, or --only latency). */
export function formatEntranceTable(rows: readonly ResultRow[]): string[] {
  const lines = ENTRANCES.flatMap(([name, label]): string[][] => {
    const row = rows.find((candidate) => candidate.name === name);
    if (!row) return [];
    const curl = row.curl;
    if (!curl) return [[label, row.error ? "failed" : "not measured"]];
    return [
      [
        label,
        fixed(curl.downMBps, 1),
        fixed(curl.upMBps, 1),
        fixed(curl.getMedianMs, 2),
        fixed(curl.getP90Ms, 2),
        fixed(curl.remoteCpuSPerGB, 2),
        fixed(curl.localCpuSPerGB, 2),
      ],
    ];
  });
  if (lines.length === 0) return [];
  const table = [HEADER, ...lines];
  const widths = HEADER.map((_, i) => Math.max(...table.map((c) => (c[i] ?? "").length)));
  const render = (c: readonly string[]): string =>
    c
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const ratio = computeEntranceRatio(rows);
  const ratioLine = ratio
    ? [
        `${"proxy ÷ TUN:".padEnd(26)}` +
          [
            times("down", ratio.down),
            times("up", ratio.up),
            times("ms/GET", ratio.getMs),
            times("CPU R", ratio.remoteCpu),
            times("CPU L", ratio.localCpu),
          ]
            .filter(Boolean)
            .join("  ") +
          "  (issue 14's bar: down and up at least 1×)",
      ]
    : [];
  const bytes = rows.find((row) => row.curl)?.curl?.bytes;
  return [
    "curl through each entrance (the same transfers, run in R):",
    render(HEADER),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...lines.map(render),
    ...ratioLine,
    `down: curl GET /bytes/N from S, up: curl -T FILE -X POST /upload to S, ${bytes === undefined ? "N" : `N = ${bytes} bytes`};`,
    "MB/s = 10^6 bytes/s as curl reports them. ms/GET: curl's time_total of GET / (a new process",
    "and connection each; proxy: socks5h from ~/.config/backhaul/proxy.env, its handshake included).",
    "CPU s/GB: R's and L's processes during the two bulk transfers ÷ bytes moved (curl not counted).",
  ];
}
