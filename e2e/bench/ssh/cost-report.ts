// The per-process table: per path, per process of R and L, system calls and context switches per
// 1-byte round trip (round-trip-cost.ts), CPU and garbage collections per GB during iperf3
// (measure.ts, gc-count.ts), with each side's total. It shows whenever a row has any of them.
import type { GcPerGB } from "./gc-count.js";
import type { ProcessBulkCost } from "./measure.js";
import type { ResultRow } from "./report.js";
import { HELD_FLOWS } from "./connection-cost.js";
import { alignedTable } from "../table.js";

const HEADER = [
  "path",
  "side",
  "process",
  "syscalls/RT",
  "switches/RT",
  "CPU s/GB",
  "major GC/GB",
  "minor GC/GB",
  "GC ms/GB",
  "most frequent calls per RT",
];

/** syscalls/RT, switches/RT and the most frequent calls. */
const ROUND_TRIP_COLUMNS = new Set([3, 4, 9]);

const fixed = (value: number | undefined, digits = 1): string =>
  value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);

/** One process's line, whichever measurements it has. */
interface Line {
  side: "R" | "L";
  pid: number;
  process: string;
  syscallsPerRt?: number;
  switchesPerRt?: number;
  topSyscalls?: string;
}

function sum(lines: readonly Line[], pick: (p: Line) => number | undefined) {
  const values = lines.map(pick);
  return values.some((value) => value === undefined)
    ? undefined
    : values.reduce<number>((a, b) => a + (b ?? 0), 0);
}

type Gc = ProcessBulkCost["gc"];

/** A side's collections: "not counted" if any of its Node processes was not; "—" with none. */
function sumGc(gcs: readonly Gc[]): Gc {
  if (gcs.includes("not counted")) return "not counted";
  const counted = gcs.filter((gc): gc is GcPerGB => gc !== undefined);
  if (counted.length === 0) return undefined;
  const total = (pick: (gc: GcPerGB) => number): number => counted.reduce((a, gc) => a + pick(gc), 0);
  return {
    majorPerGB: total((gc) => gc.majorPerGB),
    minorPerGB: total((gc) => gc.minorPerGB),
    msPerGB: total((gc) => gc.msPerGB),
  };
}

const gcCells = (gc: Gc): string[] =>
  gc === "not counted" ? [gc, gc, gc] : [fixed(gc?.majorPerGB), fixed(gc?.minorPerGB), fixed(gc?.msPerGB)];

/** Lines of the table and its legend; none when no row counted anything. */
export function formatCostTable(rows: readonly ResultRow[]): string[] {
  const body: string[][] = [];
  let roundTrips: number | undefined;
  let agentUncounted = false;
  const missing = new Set<string>();
  for (const row of rows) {
    const cost = row.peer?.roundTripCost;
    const bulk = row.peer?.processes;
    if (!cost && !bulk) continue;
    if (cost) roundTrips = cost.roundTrips;
    if (cost?.syscallsMissing) missing.add(cost.syscallsMissing);
    const label = row.variant ? `${row.name} ${row.variant}` : row.name;
    // Under strace's pass, the processes that took part in round trips; else those of iperf3.
    const lines: Line[] = cost?.processes ?? bulk ?? [];
    const during = (p: Line): ProcessBulkCost | undefined => bulk?.find((b) => b.pid === p.pid);
    const cpu = (p: Line): number | undefined => during(p)?.cpuSPerGB ?? row.peer?.cpuByPid?.[p.pid];
    for (const side of ["R", "L"] as const) {
      const mine = lines.filter((p) => p.side === side);
      for (const p of mine) {
        const gc = during(p)?.gc;
        if (gc === "not counted" && p.process === "agent") agentUncounted = true;
        body.push([
          label,
          side,
          p.process,
          fixed(p.syscallsPerRt),
          fixed(p.switchesPerRt),
          fixed(cpu(p), 2),
          ...gcCells(gc),
          p.topSyscalls ?? "",
        ]);
      }
      body.push([
        label,
        side,
        "all",
        fixed(sum(mine, (p) => p.syscallsPerRt)),
        fixed(sum(mine, (p) => p.switchesPerRt)),
        fixed(side === "R" ? row.peer?.remoteCpuSPerGB : row.peer?.localCpuSPerGB, 2),
        ...gcCells(sumGc(mine.map((p) => during(p)?.gc))),
        "",
      ]);
    }
  }
  if (body.length === 0) return [];
  // Without round trips counted, their columns would hold only dashes.
  const shown = HEADER.map((_, i) => i).filter((i) => roundTrips !== undefined || !ROUND_TRIP_COLUMNS.has(i));
  const pick = (cells: readonly string[]): string[] => shown.map((i) => cells[i] ?? "");
  return [
    roundTrips === undefined
      ? "Per process, during iperf3 (round trips not counted: --cost-round-trips 0):"
      : `Per 1-byte round trip, per process (${roundTrips} round trips on one TCP connection, R -> S):`,
    ...alignedTable(pick(HEADER), body.map(pick), (i) => {
      const column = shown[i] ?? 0;
      return column >= 3 && column <= 8;
    }),
    ...(roundTrips === undefined
      ? []
      : [
          "syscalls: `strace -c -f` on every thread of the process (a second pass: ptrace adds switches);",
          "switches: voluntary + involuntary context switches of every thread (/proc/PID/task/*/status).",
        ]),
    "CPU s/GB: the process's utime+stime during iperf3 up and down ÷ bytes moved (as the first table).",
    "major GC/GB, minor GC/GB: V8's mark-sweep-compact and young-generation collections during",
    "iperf3 ÷ GB moved; GC ms/GB: their time on the main thread (with a major one's incremental",
    "phases). Counted by e2e/bench/ssh/gc-probe.mjs, preloaded into main and the helper; — : not Node.",
    ...(agentUncounted
      ? ["agent: not counted (it starts on R through ssh and sudo: no preload reaches it)."]
      : []),
    "Counts, not times: they do not move with the machine's speed or load.",
    ...[...missing].map((why) => `syscalls not counted: ${why}`),
    "",
  ];
}

const mib = (value: number | undefined): string => (value === undefined ? "—" : `${value.toFixed(1)} MiB`);

/** One line per Backhaul row: time to connected and the helper's memory. */
export function formatConnectionCost(rows: readonly ResultRow[]): string[] {
  return rows.flatMap((row) => {
    const c = row.connection;
    if (!c) return [];
    const label = row.variant ? `${row.name} ${row.variant}` : row.name;
    const flows = c.flowsHeld === undefined ? "" : ` (${c.flowsHeld} flows open)`;
    return [
      `${`${label}:`.padEnd(18)}connected in ${c.connectMs === undefined ? "—" : `${c.connectMs.toFixed(0)} ms`}; ` +
        `helper RSS ${mib(c.helperRssIdleMiB)} just connected, ${mib(c.helperRssAfterRunMiB)} after the run, ` +
        `${mib(c.helperRssWithFlowsMiB)} with ${HELD_FLOWS} connections held${flows}, ` +
        `then ${c.helperWakeupsPerSecond === undefined ? "—" : c.helperWakeupsPerSecond.toFixed(1)} wakeups/s while they are silent` +
        (c.note ? ` [${c.note}]` : ""),
    ];
  });
}
