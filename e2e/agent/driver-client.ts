// The test's side of driver.ts: starts it in a namespace, collects its events and stops it by
// PID only (the namespace lab also stops it on cleanup).
import { ChildRpc } from "../netns/child-rpc.js";
import type { ExitInfo, NetworkNamespace } from "../netns/index.js";
import type { DriverCommands, DriverConfig, DriverEvent } from "./protocol.js";

type EventOf<K extends DriverEvent["event"]> = Extract<DriverEvent, { event: K }>;

export class AgentDriver {
  private constructor(private readonly child: ChildRpc<DriverCommands, DriverEvent>) {}

  static start(namespace: NetworkNamespace, config: DriverConfig): AgentDriver {
    return new AgentDriver(
      ChildRpc.start(namespace, "e2e/agent/driver.ts", {
        args: [JSON.stringify(config)],
        name: "the driver",
      }),
    );
  }

  get pid(): number {
    const pid = this.child.process.pid;
    if (pid === undefined) throw new Error(`the driver did not start: ${this.child.stderr}`);
    return pid;
  }

  get events(): readonly DriverEvent[] {
    return this.child.events.all;
  }

  get log(): string {
    return this.child.log;
  }

  /** The first event of `kind`; fails on timeout or if the driver exits first. */
  next<K extends DriverEvent["event"]>(kind: K, timeoutMs = 30_000): Promise<EventOf<K>> {
    return this.child.waitFor(
      `"${kind}"`,
      (event) => (event.event === kind ? (event as EventOf<K>) : undefined),
      timeoutMs,
    );
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** Lets a driver started with pauseAfterRecovery go on. */
  continue(): Promise<void> {
    return this.child.request("continue", null);
  }

  closeStdin(): void {
    this.child.closeInput();
  }

  waitForExit(timeoutMs = 30_000): Promise<ExitInfo> {
    return this.child.waitForExit(timeoutMs);
  }
}
