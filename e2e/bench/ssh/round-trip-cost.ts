// Where one 1-byte round trip's cost goes, per process of R and L: context switches (from
// /proc/PID/task/*/status, every thread) and system calls (strace -c, every thread). Unlike times,
// these counts do not move with the machine's speed or load, so they compare paths across runs
// and machines. Two passes: strace's ptrace stops would add switches of their own.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { runChecked, type NetworkNamespace } from "../../netns/index.js";
import { findOnPath } from "../../netns/preconditions.js";

export interface ProcessCost {
  side: "R" | "L";
  pid: number;
  /** What the process is: "agent", "helper", "main (cli.mjs)", "sshd: bhdev@notty", "ssh"... */
  process: string;
  switchesPerRt: number;
  /** Undefined when strace is not installed or could not attach. */
  syscallsPerRt?: number;
  /** The three most frequent calls with their share per round trip, e.g. "write 2.0, epoll_wait 2.0". */
  topSyscalls?: string;
}

export interface RoundTripCost {
  roundTrips: number;
  processes: ProcessCost[];
  /** Why syscalls were not counted, when they were not. */
  syscallsMissing?: string;
}

interface Forwarder {
  side: "R" | "L";
  pid: number;
  process: string;
}

/** A short name for what PID runs: the script for node, else its title (sshd sets one). */
export function describeProcess(cmdline: string[]): string {
  const [program = "?", ...args] = cmdline;
  const name = basename(program);
  if (name === "node" || name.startsWith("node")) {
    const script = args.find((arg) => !arg.startsWith("-"));
    const file = script ? basename(script) : "";
    if (file.startsWith("helper-local")) return "helper";
    if (file.includes("agent") || script?.includes("/agent/")) return "agent";
    if (file === "cli.mjs") return "main (cli.mjs)";
    return `node ${file}`.trim();
  }
  if (name.startsWith("python")) return args.some((arg) => arg.includes("sshuttle")) ? "sshuttle" : name;
  // sshd rewrites its argv into one title ("sshd: bhdev@notty"): keep it whole.
  return (args.length === 0 ? program : name).slice(0, 40);
}

export function readCmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

async function namespacePids(namespace: NetworkNamespace): Promise<number[]> {
  const result = await runChecked("ip", ["netns", "pids", namespace.name]);
  return result.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** The processes of R and L now: those started later (the measuring clients) are not charged. */
export async function forwarders(remote: NetworkNamespace, local: NetworkNamespace): Promise<Forwarder[]> {
  const found: Forwarder[] = [];
  for (const [side, namespace] of [
    ["R", remote],
    ["L", local],
  ] as const) {
    for (const pid of await namespacePids(namespace)) {
      try {
        found.push({ side, pid, process: describeProcess(readCmdline(pid)) });
      } catch {
        // exited between the listing and the read
      }
    }
  }
  return found;
}

const tasksOf = (pid: number): number[] => readdirSync(`/proc/${pid}/task`).map(Number);

/** Voluntary + involuntary context switches of every thread of PID; 0 once it is gone. */
export function contextSwitches(pid: number): number {
  let tids: number[];
  try {
    tids = tasksOf(pid);
  } catch {
    return 0; // exited
  }
  let total = 0;
  for (const tid of tids) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      for (const match of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm))
        total += Number(match[1]);
    } catch {
      // this thread ended between the listing and the read: the others still count
    }
  }
  return total;
}

/** Calls per syscall from the summary `strace -c` prints when it detaches. */
export function parseStraceSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split("\n")) {
    // "% time  seconds  usecs/call  calls  errors  syscall": errors may be blank.
    const match = /^\s*\d+\.\d+\s+\d+\.\d+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (match && match[2] !== "total") calls.set(match[2] ?? "", Number(match[1]));
  }
  return calls;
}

interface Tracer {
  stop(): Promise<Map<string, number> | undefined>;
}

/** strace -c on every thread of PID (with -f, strace attaches them all and follows new ones). */
export async function traceSyscalls(pid: number): Promise<Tracer> {
  const child = spawn("strace", ["-c", "-f", "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // "close", not "exit": the summary is strace's last words, and a long one (a process with many
  // threads) can still be in the pipe when "exit" fires — the table then showed — for main.
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  // strace says "attached" per thread before it counts anything; a moment more for the rest.
  const deadline = Date.now() + 5_000;
  while (!stderr.includes("attached") && child.exitCode === null && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    async stop() {
      if (child.exitCode === null) child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      const calls = parseStraceSummary(stderr);
      return calls.size > 0 ? calls : undefined;
    },
  };
}

const top = (calls: Map<string, number>, roundTrips: number): string =>
  [...calls]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, count]) => `${name} ${(count / roundTrips).toFixed(1)}`)
    .join(", ");

/**
 * Runs `run` (which makes `roundTrips` round trips) twice: once counting switches, once under
 * strace counting system calls. Processes that did nothing in either pass are left out.
 */
export async function measureRoundTripCost(
  remote: NetworkNamespace,
  local: NetworkNamespace,
  roundTrips: number,
  run: () => Promise<void>,
): Promise<RoundTripCost> {
  const processes = await forwarders(remote, local);
  const before = processes.map((p) => contextSwitches(p.pid));
  await run();
  const switches = processes.map((p, i) => contextSwitches(p.pid) - (before[i] ?? 0));
  const syscallsMissing = findOnPath("strace")
    ? undefined
    : "strace is not installed (Debian package strace)";
  let calls: (Map<string, number> | undefined)[] = [];
  if (!syscallsMissing) {
    const tracers = await Promise.all(processes.map((p) => traceSyscalls(p.pid)));
    try {
      await run();
    } finally {
      calls = await Promise.all(tracers.map((tracer) => tracer.stop()));
    }
  }
  const costs: ProcessCost[] = [];
  processes.forEach((p, i) => {
    const counted = calls[i];
    const total = counted ? [...counted.values()].reduce((a, b) => a + b, 0) : undefined;
    const switchesPerRt = (switches[i] ?? 0) / roundTrips;
    const syscallsPerRt = total === undefined ? undefined : total / roundTrips;
    // Listening sshd, idle sudo...: nothing per round trip, nothing to show.
    if (switchesPerRt < 0.01 && (syscallsPerRt ?? 0) < 0.01) return;
    costs.push({
      ...p,
      switchesPerRt,
      ...(syscallsPerRt !== undefined && { syscallsPerRt }),
      ...(counted && { topSyscalls: top(counted, roundTrips) }),
    });
  });
  return { roundTrips, processes: costs, ...(syscallsMissing && { syscallsMissing }) };
}
