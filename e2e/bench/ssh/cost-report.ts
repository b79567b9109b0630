// The table of where a 1-byte round trip's cost goes: per path, per process of R and L, system
// calls and context switches (round-trip-cost.ts), with each side's total.
import type { ProcessCost } from "./round-trip-cost.js";
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
  "most frequent calls per RT",
];

const fixed = (value: number | undefined, digits = 1): string =>
  value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);

function sum(processes: readonly ProcessCost[], pick: (p: ProcessCost) => number | undefined) {
  const values = processes.map(pick);
  return values.some((value) => value === undefined)
    ? undefined
    : values.reduce<number>((a, b) => a + (b ?? 0), 0);
}

/** Lines of the table and its legend; none when no row counted anything. */
export function formatCostTable(rows: readonly ResultRow[]): string[] {
  const body: string[][] = [];
  let roundTrips = 0;
  const missing = new Set<string>();
  for (const row of rows) {
    const cost = row.peer?.roundTripCost;
    if (!cost) continue;
    roundTrips = cost.roundTrips;
    if (cost.syscallsMissing) missing.add(cost.syscallsMissing);
    const label = row.variant ? `${row.name} ${row.variant}` : row.name;
    const cpu = (p: ProcessCost): number | undefined => row.peer?.cpuByPid?.[p.pid];
    for (const side of ["R", "L"] as const) {
      const mine = cost.processes.filter((p) => p.side === side);
      for (const p of mine)
        body.push([
          label,
          side,
          p.process,
          fixed(p.syscallsPerRt),
          fixed(p.switchesPerRt),
          fixed(cpu(p), 2),
          p.topSyscalls ?? "",
        ]);
      body.push([
        label,
        side,
        "all",
        fixed(sum(mine, (p) => p.syscallsPerRt)),
        fixed(sum(mine, (p) => p.switchesPerRt)),
        fixed(side === "R" ? row.peer?.remoteCpuSPerGB : row.peer?.localCpuSPerGB, 2),
        "",
      ]);
    }
  }
  if (body.length === 0) return [];
  return [
    `Per 1-byte round trip, per process (${roundTrips} round trips on one TCP connection, R -> S):`,
    ...alignedTable(HEADER, body, (i) => i >= 3 && i <= 5),
    "syscalls: `strace -c -f` on every thread of the process (a second pass: ptrace adds switches);",
    "switches: voluntary + involuntary context switches of every thread (/proc/PID/task/*/status).",
    "CPU s/GB: the process's utime+stime during iperf3 up and down ÷ bytes moved (as the first table).",
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
