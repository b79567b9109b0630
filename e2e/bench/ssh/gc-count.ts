// Garbage collections per process, from the probe (gc-probe.mjs) the bench preloads into the Node
// processes it starts in L: counts, unlike times, do not move with the machine's load, so they
// show what a lever does to the collector (external memory from ArrayBuffers drives main's
// major collections). The agent on R starts through ssh and sudo: no preload reaches it.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const GC_PROBE = new URL("gc-probe.mjs", import.meta.url);
/** The directory the probe writes PID.json to. */
export const GC_DIR_VARIABLE = "BACKHAUL_BENCH_GC_DIR";

/** What the probe writes: collections by kind and their time on the process's main thread. */
export interface GcCounts {
  pid: number;
  role: string;
  minor: number;
  major: number;
  minorMs: number;
  majorMs: number;
}

export type GcSample = Map<number, GcCounts>;

/** Per 10^9 bytes moved. */
export interface GcPerGB {
  majorPerGB: number;
  minorPerGB: number;
  /** Time in collections (minor, major and a major's incremental and weak-callback phases). */
  msPerGB: number;
}

/** `env` arguments that preload the probe, writing to `dir`: NAME=VALUE pairs. */
export function gcProbeEnv(dir: string, inherited = process.env.NODE_OPTIONS): string[] {
  // A file: URL (spaces escaped), quoted all the same: NODE_OPTIONS splits on spaces. What the
  // bench was started with (a profiler's preload, say) is kept, before the probe.
  const options = [inherited, `--import "${GC_PROBE.href}"`].filter(Boolean).join(" ");
  return [`NODE_OPTIONS=${options}`, `${GC_DIR_VARIABLE}=${dir}`];
}

const isCounts = (value: unknown): value is GcCounts => {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return ["pid", "minor", "major", "minorMs", "majorMs"].every((key) => typeof v[key] === "number");
};

/** Every process's latest counts in `dir` (a file that cannot be read or parsed is skipped). */
export function readGcCounts(dir: string): GcSample {
  const sample: GcSample = new Map();
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => /^\d+\.json$/.test(name));
  } catch {
    return sample; // no process wrote yet
  }
  for (const name of files) {
    try {
      const value: unknown = JSON.parse(readFileSync(join(dir, name), "utf8"));
      if (isCounts(value)) sample.set(value.pid, value);
    } catch {
      // renamed into place whole, so only a file gone meanwhile gets here
    }
  }
  return sample;
}

/**
 * What PID collected between two samples, per 10^9 bytes; undefined when the probe did not
 * report it in both (not preloaded, or started after the first sample).
 */
export function gcPerGB(
  pid: number,
  before: GcSample,
  after: GcSample,
  bytesMoved: number,
): GcPerGB | undefined {
  const start = before.get(pid);
  const end = after.get(pid);
  if (!start || !end || bytesMoved <= 0) return undefined;
  const gb = bytesMoved / 1e9;
  return {
    majorPerGB: (end.major - start.major) / gb,
    minorPerGB: (end.minor - start.minor) / gb,
    msPerGB: (end.minorMs + end.majorMs - start.minorMs - start.majorMs) / gb,
  };
}

/** Whether a command line runs Node (whose collections the table should show or call uncounted). */
export function isNodeCommand(cmdline: readonly string[]): boolean {
  const program = cmdline[0] ?? "";
  const name = program.slice(program.lastIndexOf("/") + 1);
  return name === "node" || /^node\d/.test(name) || name === "nodejs";
}
