// `backhaul connect --json` as the CLI suites watch it: its events, waited for by state, and the
// processes it started (to find the agent and the local helper among them).
import { readFileSync, readdirSync } from "node:fs";
import type { ManagedProcess } from "../netns/index.js";
import { readJsonLines } from "../netns/json-lines.js";

export interface Event {
  type: string;
  state?: string;
  step?: string;
  message?: string;
  line?: string;
}

/** A running `backhaul connect --json`, with its events. */
export class Cli {
  readonly events: Event[] = [];
  constructor(readonly process: ManagedProcess) {
    // Every line is read, flows included: a full stdout pipe would stall the CLI.
    readJsonLines(
      process.child.stdout,
      (value) => this.events.push(value as unknown as Event),
      (line) => this.events.push({ type: "garbage", line }),
    );
  }

  /** Waits for a state event after the `from`th event. */
  async until(state: string, timeoutMs: number, from = 0): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex((e, i) => i >= from && e.type === "state" && e.state === state);
      if (index >= 0) return index;
      if (Date.now() > deadline || this.process.hasExited) {
        throw new Error(`no "${state}" within ${timeoutMs} ms; events:\n${this.describe()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  describe(): string {
    return this.events
      .filter((e) => e.type !== "flow" && e.type !== "dns")
      .map((e) => JSON.stringify(e))
      .slice(-40)
      .join("\n");
  }
}

/**
 * A CLI's JSON events as `project` makes each, a description of them for assertion messages, and a
 * waiter for `check` on them that fails naming `what` and the events.
 */
export function watchEvents<E>(cli: ManagedProcess, project: (value: Record<string, unknown>) => E) {
  const events: E[] = [];
  readJsonLines(cli.child.stdout, (value) => events.push(project(value)));
  const describeEvents = (): string => events.map((e) => JSON.stringify(e)).join("\n");
  const until = async (check: () => boolean, what: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${describeEvents()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return { events, describeEvents, until };
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** The processes under `pid` (its children, theirs...), from /proc/PID/task/TID/children. */
export function descendants(pid: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const visit = (parent: number): void => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return; // gone meanwhile
    }
    for (const task of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8");
      } catch {
        continue;
      }
      for (const child of children.split(/\s+/).filter(Boolean).map(Number)) {
        try {
          found.push({
            pid: child,
            argv: readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").filter(Boolean),
          });
        } catch {
          continue;
        }
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

/** Which of `processes` still run (zombies do not) after up to 2 s of grace for their own exit. */
export async function stillRunning(processes: readonly ProcessInfo[]): Promise<ProcessInfo[]> {
  const running = (): ProcessInfo[] =>
    processes.filter(({ pid }) => {
      try {
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
      } catch {
        return false;
      }
    });
  const deadline = Date.now() + 2_000;
  while (running().length > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  return running();
}
