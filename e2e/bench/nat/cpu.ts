// CPU time of one process (all its threads) from /proc/PID/stat, to charge the NAT work per byte.
import { readFileSync } from "node:fs";
import { runChecked } from "../../netns/index.js";

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK`: the unit of utime and stime in /proc/PID/stat. */
export async function clockTicks(): Promise<number> {
  if (ticksPerSecond === undefined) {
    const result = await runChecked("getconf", ["CLK_TCK"], { timeoutMs: 5_000 });
    const value = Number(result.stdout.trim());
    if (!Number.isInteger(value) || value <= 0) throw new Error(`getconf CLK_TCK said ${result.stdout}`);
    ticksPerSecond = value;
  }
  return ticksPerSecond;
}

/** utime + stime of PID in seconds. The process's own stat sums every thread of it. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm (field 2) may hold spaces and parentheses: split after its closing one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 overall are 11 and 12 here (this list starts at field 3, the state).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return (utime + stime) / (await clockTicks());
}
