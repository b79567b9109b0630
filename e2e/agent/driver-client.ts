// The test's side of driver.ts: starts it in a namespace, collects its events and stops it by
// PID only (the namespace lab also stops it on cleanup).
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ExitInfo, ManagedProcess, NetworkNamespace } from "../netns/index.js";
import type { DriverConfig, DriverEvent } from "./protocol.js";

const DRIVER = fileURLToPath(new URL("./driver.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type EventOf<K extends DriverEvent["event"]> = Extract<DriverEvent, { event: K }>;

export class AgentDriver {
  readonly events: DriverEvent[] = [];
  private stderr = "";
  private readonly waiters = new Set<() => void>();

  private constructor(readonly process: ManagedProcess) {
    const child = process.child;
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as DriverEvent);
      } catch {
        this.stderr += `(unparsable stdout) ${line}\n`;
      }
      for (const wake of this.waiters) wake();
    });
    void process.exited.then(() => {
      for (const wake of this.waiters) wake();
    });
  }

  static start(namespace: NetworkNamespace, config: DriverConfig): AgentDriver {
    const args = ["--import", "tsx", DRIVER, JSON.stringify(config)];
    return new AgentDriver(namespace.spawn(globalThis.process.execPath, args, { cwd: ROOT }));
  }

  get pid(): number {
    const pid = this.process.pid;
    if (pid === undefined) throw new Error(`the driver did not start: ${this.stderr}`);
    return pid;
  }

  get log(): string {
    return `events: ${JSON.stringify(this.events, null, 2)}\nstderr:\n${this.stderr}`;
  }

  /** The first event of `kind`; fails on timeout or if the driver exits first. */
  async next<K extends DriverEvent["event"]>(kind: K, timeoutMs = 30_000): Promise<EventOf<K>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((event): event is EventOf<K> => event.event === kind);
      if (found !== undefined) return found;
      if (this.process.hasExited) throw new Error(`the driver exited before "${kind}"\n${this.log}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${kind}" from the driver within ${timeoutMs} ms\n${this.log}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  send(line: string): void {
    this.process.child.stdin?.write(`${line}\n`);
  }

  closeStdin(): void {
    this.process.child.stdin?.end();
  }

  waitForExit(timeoutMs = 30_000): Promise<ExitInfo> {
    return this.process.waitForExit(timeoutMs);
  }
}
