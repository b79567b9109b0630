// Who wrote a journal, precisely enough to tell whether that process is still running: a PID
// alone can be reused by an unrelated process, so the kernel's start time of the process (field
// 22 of /proc/PID/stat) and the boot it ran in are recorded with it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot at which the process started; together with the PID, unique per boot. */
  startTime: string;
  /** /proc/sys/kernel/random/boot_id: after a reboot every earlier process is gone. */
  bootId: string;
}

/** Reads /proc; injectable so tests can describe processes that do not exist. */
export interface ProcFs {
  read(path: string): Promise<string | null>;
}

export function procFs(root = "/proc"): ProcFs {
  return {
    async read(path) {
      try {
        return await readFile(join(root, path), "utf8");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ESRCH") return null;
        throw error;
      }
    },
  };
}

interface ProcStat {
  state: string;
  startTime: string;
}

/** Field 2 (comm) may hold spaces and parentheses: the fields after it start after the last ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
  const state = fields[0];
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !/^\d+$/.test(startTime)) return null;
  return { state, startTime };
}

async function bootId(proc: ProcFs): Promise<string> {
  return (await proc.read("sys/kernel/random/boot_id"))?.trim() ?? "";
}

export async function identityOf(pid: number, proc: ProcFs = procFs()): Promise<ProcessIdentity> {
  const stat = parseProcStat((await proc.read(`${pid}/stat`)) ?? "");
  if (stat === null) throw new Error(`cannot read the start time of process ${pid} from /proc/${pid}/stat`);
  return { pid, startTime: stat.startTime, bootId: await bootId(proc) };
}

export function currentIdentity(proc: ProcFs = procFs()): Promise<ProcessIdentity> {
  return identityOf(process.pid, proc);
}

/**
 * True while the very process `identity` describes is running. A different boot, a missing PID,
 * a PID now held by a process that started at another time, and a zombie (its files, and so its
 * TUN device, are already closed) all count as gone.
 */
export async function isRunning(identity: ProcessIdentity, proc: ProcFs = procFs()): Promise<boolean> {
  const currentBoot = await bootId(proc);
  if (identity.bootId !== "" && currentBoot !== "" && identity.bootId !== currentBoot) return false;
  const stat = parseProcStat((await proc.read(`${identity.pid}/stat`)) ?? "");
  if (stat === null) return false;
  return stat.startTime === identity.startTime && stat.state !== "Z" && stat.state !== "X";
}
