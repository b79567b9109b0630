// The test's side of tun-harness.ts: starts it inside a namespace and turns its commands and
// events (child-rpc.ts) back into calls (open, write, stats, close) and packet batches.
import type { TunStats } from "../../src/helper/system/tun/index.js";
import { ChildRpc } from "./child-rpc.js";
import type { NetworkNamespace } from "./namespace.js";
import type { ExitInfo } from "./process.js";
import type { HarnessCommands, HarnessEvent, TunConfig } from "./tun-harness-protocol.js";

export class TunHarness {
  private batchListener: ((packets: Buffer[]) => void) | undefined;
  /** Errors the device reported while reading (there should be none). */
  readonly deviceErrors: string[] = [];

  private constructor(private readonly child: ChildRpc<HarnessCommands, HarnessEvent>) {
    child.onEvent((event) => {
      if (event.event === "packets")
        this.batchListener?.(event.packets.map((packet) => Buffer.from(packet, "base64")));
      else this.deviceErrors.push(`${event.code ?? "?"}: ${event.message}`);
    });
  }

  /** Starts the harness inside `namespace` (the namespace's lab stops it on cleanup). */
  static start(namespace: NetworkNamespace): TunHarness {
    // Packet batches are streamed to the listener, not kept.
    return new TunHarness(
      ChildRpc.start(namespace, "e2e/netns/tun-harness.ts", { name: "tun-harness", history: 0 }),
    );
  }

  get stderrText(): string {
    return this.child.stderr;
  }

  onPackets(listener: (packets: Buffer[]) => void): void {
    this.batchListener = listener;
  }

  open(config: TunConfig, timeoutMs = 20_000): Promise<string> {
    return this.child.request("open", config, timeoutMs);
  }

  write(packets: readonly Buffer[]): Promise<number> {
    return this.child.request(
      "write",
      packets.map((packet) => packet.toString("base64")),
    );
  }

  /** Stops reading: packets queue up in the kernel until resume(). */
  pause(): Promise<void> {
    return this.child.request("pause", null);
  }

  resume(): Promise<void> {
    return this.child.request("resume", null);
  }

  stats(): Promise<TunStats> {
    return this.child.request("stats", null);
  }

  /** Closes the device; resolves with its final stats. The harness should then exit by itself. */
  close(): Promise<TunStats> {
    return this.child.request("close", null);
  }

  waitForExit(timeoutMs: number): Promise<ExitInfo> {
    return this.child.waitForExit(timeoutMs);
  }
}
