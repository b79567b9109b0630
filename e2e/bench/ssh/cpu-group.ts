// CPU seconds of every process in some namespaces, to charge a tunnel's work on each side
// (several processes per side: sshd and its session, ssh, sudo, the agent, Python...).
import { runChecked, type NetworkNamespace } from "../../netns/index.js";
import { cpuSeconds } from "../nat/cpu.js";

export type CpuSample = Map<number, number>;

/** utime+stime of each process in `namespace` now; processes that exit meanwhile are skipped. */
export async function sampleNamespace(namespace: NetworkNamespace): Promise<CpuSample> {
  const result = await runChecked("ip", ["netns", "pids", namespace.name]);
  const sample: CpuSample = new Map();
  for (const pid of result.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      sample.set(pid, await cpuSeconds(pid));
    } catch {
      // exited between the listing and the read
    }
  }
  return sample;
}

/**
 * CPU spent between two samples by the processes of the first one: those started later (the
 * benchmark's own clients) are not charged. A process gone by the second sample counts as 0.
 */
export async function cpuSince(before: CpuSample): Promise<number> {
  let total = 0;
  for (const spent of (await cpuByPidSince(before)).values()) total += spent;
  return total;
}

/** The same, per process. */
export async function cpuByPidSince(before: CpuSample): Promise<CpuSample> {
  const spent: CpuSample = new Map();
  for (const [pid, start] of before) {
    try {
      spent.set(pid, (await cpuSeconds(pid)) - start);
    } catch {
      // exited: its time since the first sample is lost (it was not forwarding)
    }
  }
  return spent;
}
