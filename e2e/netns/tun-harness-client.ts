// The test's side of tun-harness.ts: starts it inside a namespace and turns its JSON lines back
// into calls (open, write, stats, close) and packet batches.
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import type { TunStats } from "../../src/helper/tun/index.js";
import type { NetworkNamespace } from "./namespace.js";
import type { ExitInfo, ManagedProcess } from "./process.js";
import type { HarnessMessage, HarnessRequest, TunConfig } from "./tun-harness-protocol.js";

const HARNESS = fileURLToPath(new URL("./tun-harness.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Reply = Extract<HarnessMessage, { event: "reply" }>;
// Distributes Omit over the union, so each request keeps its own fields.
type RequestBody = HarnessRequest extends infer R
  ? R extends HarnessRequest
    ? Omit<R, "id">
    : never
  : never;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

export class TunHarness {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private batchListener: ((packets: Buffer[]) => void) | undefined;
  private stderr = "";
  /** Errors the device reported while reading (there should be none). */
  readonly deviceErrors: string[] = [];

  private constructor(readonly process: ManagedProcess) {
    const child = process.child;
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    createInterface({ input: child.stdout! }).on("line", (line) => this.receive(line));
    void process.exited.then((exit) => {
      const error = new Error(
        `tun-harness exited (${exit.code ?? exit.signal}) before replying: ${this.stderr.trim()}`,
      );
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
  }

  /** Starts the harness inside `namespace` (the namespace's lab stops it on cleanup). */
  static start(namespace: NetworkNamespace): TunHarness {
    const process = namespace.spawn(globalThis.process.execPath, ["--import", "tsx", HARNESS], { cwd: ROOT });
    return new TunHarness(process);
  }

  get stderrText(): string {
    return this.stderr;
  }

  onPackets(listener: (packets: Buffer[]) => void): void {
    this.batchListener = listener;
  }

  async open(config: TunConfig, timeoutMs = 20_000): Promise<string> {
    const reply = await this.request({ op: "open", config }, timeoutMs);
    return reply.name ?? "";
  }

  async write(packets: readonly Buffer[]): Promise<number> {
    const reply = await this.request({
      op: "write",
      packets: packets.map((packet) => packet.toString("base64")),
    });
    return reply.written ?? 0;
  }

  /** Stops reading: packets queue up in the kernel until resume(). */
  async pause(): Promise<void> {
    await this.request({ op: "pause" });
  }

  async resume(): Promise<void> {
    await this.request({ op: "resume" });
  }

  async stats(): Promise<TunStats> {
    const reply = await this.request({ op: "stats" });
    if (!reply.stats) throw new Error("tun-harness sent no stats");
    return reply.stats;
  }

  /** Closes the device; resolves with its final stats. The harness should then exit by itself. */
  async close(): Promise<TunStats> {
    const reply = await this.request({ op: "close" });
    if (!reply.stats) throw new Error("tun-harness sent no stats");
    return reply.stats;
  }

  waitForExit(timeoutMs: number): Promise<ExitInfo> {
    return this.process.waitForExit(timeoutMs);
  }

  private request(body: RequestBody, timeoutMs = 10_000): Promise<Reply> {
    const id = this.nextId++;
    const request = { ...body, id } as HarnessRequest;
    const stdin = this.process.child.stdin;
    if (!stdin || this.process.hasExited)
      return Promise.reject(new Error(`tun-harness is gone: ${this.stderr.trim()}`));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`tun-harness did not answer "${body.op}" within ${timeoutMs} ms: ${this.stderr.trim()}`),
        );
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  private receive(line: string): void {
    const message = JSON.parse(line) as HarnessMessage;
    switch (message.event) {
      case "packets":
        this.batchListener?.(message.packets.map((packet) => Buffer.from(packet, "base64")));
        return;
      case "tun-error":
        this.deviceErrors.push(`${message.code ?? "?"}: ${message.message}`);
        return;
      case "reply":
      case "failed": {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.event === "reply") waiting?.resolve(message);
        else waiting?.reject(new Error(`tun-harness: ${message.message}`));
        return;
      }
    }
  }
}
