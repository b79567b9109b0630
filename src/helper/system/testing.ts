// Test helpers for the agent's unit tests: temporary journals, a /proc that describes made-up
// processes, and a command runner that records commands and answers from a script.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommandError, type CommandRunner } from "./command.js";
import type { ProcFs } from "./process-identity.js";
import type { TunDevice } from "./tun/index.js";

export interface FakeProcess {
  startTime: string;
  /** Process state letter; "S" (sleeping) by default, "Z" for a zombie. */
  state?: string;
  comm?: string;
}

/** A /proc/PID/stat line as the kernel writes it, with `startTime` as field 22. */
export function procStatLine(pid: number, process: FakeProcess): string {
  const filler = Array.from({ length: 18 }, () => "0").join(" ");
  return `${pid} (${process.comm ?? "node"}) ${process.state ?? "S"} ${filler} ${process.startTime} 0 0\n`;
}

export function fakeProc(processes: Record<number, FakeProcess>, bootId = "boot-1"): ProcFs {
  return {
    read(path) {
      if (path === "sys/kernel/random/boot_id") return Promise.resolve(`${bootId}\n`);
      const match = /^(\d+)\/stat$/.exec(path);
      const process = match === null ? undefined : processes[Number(match[1])];
      return Promise.resolve(process === undefined ? null : procStatLine(Number(match?.[1]), process));
    },
  };
}

/** A fresh directory under the system's temp dir, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "backhaul-agent-test-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Answers for commands: stdout, or the stderr of a failure. */
export type Script = (command: string) => { stdout?: string; fails?: string } | undefined;

export interface RecordingRunner {
  run: CommandRunner;
  calls: string[];
}

export function recordingRunner(script: Script = () => undefined): RecordingRunner {
  const calls: string[] = [];
  return {
    calls,
    run: (file, args) => {
      const command = [file, ...args].join(" ");
      calls.push(command);
      const answer = script(command);
      if (answer?.fails !== undefined) {
        return Promise.reject(new CommandError(file, args, { reason: "failed", detail: answer.fails }));
      }
      return Promise.resolve(answer?.stdout ?? "");
    },
  };
}

/** A TUN that is only a name and an MTU: it carries no packets, and says whether it was closed. */
export class StandInTun implements TunDevice {
  closed = false;
  constructor(
    readonly name: string,
    readonly mtu: number,
  ) {}
  onPackets(): void {}
  onError(): void {}
  pause(): void {}
  resume(): void {}
  write(): number {
    return 0;
  }
  stats(): ReturnType<TunDevice["stats"]> {
    return { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, writeDrops: 0, readErrors: 0 };
  }
  close(): void {
    this.closed = true;
  }
}
