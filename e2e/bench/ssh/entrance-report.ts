// The second table of `npm run bench`: the same curl transfers through Backhaul's TUN entrance
// (row "backhaul") and its proxy entrance (row "proxy"), and the proxy's figures ÷ the TUN's. Under
// --variant each build has a row per entrance, its own "proxy ÷ TUN" line, and each later build's
// figures ÷ the first's per entrance.
import { MEASURED_TRANSFERS, WARMUP_PAIRS, type CurlResult } from "./curl-transfers.js";
import type { ResultRow } from "./report.js";
import { alignedTable, fixed, ratioLine } from "../table.js";

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

const curlOf = (
  rows: readonly ResultRow[],
  name: "backhaul" | "proxy",
  variant: string | undefined,
): CurlResult | undefined =>
  rows.find((row) => row.name === name && row.variant === variant && !row.error)?.curl;

function curlRatio(a: CurlResult, b: CurlResult): EntranceRatio {
  return {
    down: divide(a.downMBps, b.downMBps),
    up: divide(a.upMBps, b.upMBps),
    getMs: divide(a.getMedianMs, b.getMedianMs),
    remoteCpu: divide(a.remoteCpuSPerGB, b.remoteCpuSPerGB),
    localCpu: divide(a.localCpuSPerGB, b.localCpuSPerGB),
  };
}

/** Proxy ÷ TUN of one build (`variant`, or the plain rows when none). */
export function computeEntranceRatio(
  rows: readonly ResultRow[],
  variant?: string,
): EntranceRatio | undefined {
  const tun = curlOf(rows, "backhaul", variant);
  const proxy = curlOf(rows, "proxy", variant);
  return tun && proxy ? curlRatio(proxy, tun) : undefined;
}

/** The builds in the order measured: [undefined] without --variant. */
function buildsOf(rows: readonly ResultRow[]): Array<string | undefined> {
  const builds: Array<string | undefined> = [];
  for (const row of rows) {
    if ((row.name === "backhaul" || row.name === "proxy") && !builds.includes(row.variant))
      builds.push(row.variant);
  }
  return builds;
}

/** Proxy ÷ TUN for each build that has both rows. */
export function computeEntranceRatios(
  rows: readonly ResultRow[],
): Array<EntranceRatio & { variant?: string }> {
  return buildsOf(rows).flatMap((variant) => {
    const ratio = computeEntranceRatio(rows, variant);
    return ratio ? [{ ...(variant === undefined ? {} : { variant }), ...ratio }] : [];
  });
}

/** Under --variant: per entrance, each later build's curl figures ÷ the first build's. */
export function computeEntranceVariantRatios(
  rows: readonly ResultRow[],
): Array<EntranceRatio & { entrance: "backhaul" | "proxy"; variant: string; against: string }> {
  const [first, ...rest] = buildsOf(rows);
  if (first === undefined) return [];
  return ENTRANCES.flatMap(([entrance]) => {
    const base = curlOf(rows, entrance, first);
    if (!base) return [];
    return rest.flatMap((variant) => {
      const curl = curlOf(rows, entrance, variant);
      return curl && variant !== undefined
        ? [{ entrance, variant, against: first, ...curlRatio(curl, base) }]
        : [];
    });
  });
}

/** The ratio lines' figures: EntranceRatio's fields and their labels. */
const FIGURES = { down: "down", up: "up", getMs: "ms/GET", remoteCpu: "CPU R", localCpu: "CPU L" } as const;

const HEADER = ["entrance", "down MB/s", "up MB/s", "ms/GET p50", "ms/GET p90", "CPU s/GB R", "CPU s/GB L"];

/** Empty when neither entrance was measured with curl (not in --path, or --only latency). */
export function formatEntranceTable(rows: readonly ResultRow[]): string[] {
  const lines = ENTRANCES.flatMap(([name, entranceLabel]): string[][] =>
    rows
      .filter((candidate) => candidate.name === name)
      .map((row): string[] => {
        const label = row.variant ? `${entranceLabel} ${row.variant}` : entranceLabel;
        const curl = row.curl;
        if (!curl) return [label, row.error ? "failed" : "not measured"];
        return [
          label,
          fixed(curl.downMBps, 1),
          fixed(curl.upMBps, 1),
          fixed(curl.getMedianMs, 2),
          fixed(curl.getP90Ms, 2),
          fixed(curl.remoteCpuSPerGB, 2),
          fixed(curl.localCpuSPerGB, 2),
        ];
      }),
  );
  if (lines.length === 0) return [];
  const ratioLines = [
    ...computeEntranceRatios(rows).map(
      (ratio) =>
        ratioLine(`proxy ÷ TUN${ratio.variant ? ` (${ratio.variant})` : ""}`, ratio, FIGURES) +
        "  (issue 14's bar: down and up at least 1×)",
    ),
    ...computeEntranceVariantRatios(rows).map((ratio) =>
      ratioLine(
        `${ratio.entrance === "proxy" ? "proxy" : "TUN"} ${ratio.variant} ÷ ${ratio.against}`,
        ratio,
        FIGURES,
      ),
    ),
  ];
  const bytes = rows.find((row) => row.curl)?.curl?.bytes;
  return [
    "curl through each entrance (the same transfers, run in R):",
    ...alignedTable(HEADER, lines, (i) => i !== 0),
    ...ratioLines,
    `down: curl GET /bytes/N from S, up: curl -T FILE -X POST /upload to S, ${bytes === undefined ? "N" : `N = ${bytes} bytes`};`,
    `MB/s = 10^6 bytes/s as curl reports them, the median of ${MEASURED_TRANSFERS} transfers each way.`,
    "ms/GET: curl's time_total of GET / (a new process",
    "and connection each; proxy: socks5h from ~/.config/backhaul/proxy.env, its handshake included).",
    "CPU s/GB: R's and L's processes during the measured bulk transfers ÷ bytes moved (curl not counted).",
    `Each entrance first moves N down and up ${WARMUP_PAIRS} times, unmeasured: both are measured equally warm.`,
  ];
}
