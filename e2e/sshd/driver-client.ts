// The test's side of driver.ts: starts it in L and turns requests into awaited replies.
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ManagedProcess, NetworkNamespace } from "../netns/index.js";
import type { DriverReply, DriverRequest } from "./driver-protocol.js";

const DRIVER = fileURLToPath(new URL("./driver.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Distributes Omit over the union, so each request keeps its own fields.
type RequestBody = DriverRequest extends infer R ? (R extends DriverRequest ? Omit<R, "id"> : never) : never;

export class SshDriver {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: DriverReply) => void>();
  private stderr = "";

  private constructor(private readonly process: ManagedProcess) {
    process.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    createInterface({ input: process.child.stdout! }).on("line", (line) => {
      const reply = JSON.parse(line) as DriverReply;
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  /**
   * Starts the driver in `namespace` with HOME set to `home` and no SSH_AUTH_SOCK, so nothing of
   * this machine's own ~/.ssh or agent is used by accident. The namespace's lab stops it.
   */
  static start(namespace: NetworkNamespace, home: string): SshDriver {
    const env: NodeJS.ProcessEnv = { ...globalThis.process.env, HOME: home };
    delete env.SSH_AUTH_SOCK;
    const args = ["--import", "tsx", DRIVER];
    return new SshDriver(namespace.spawn(globalThis.process.execPath, args, { cwd: ROOT, env }));
  }

  request(body: RequestBody, timeoutMs = 60_000): Promise<DriverReply> {
    const id = this.nextId++;
    const stdin = this.process.child.stdin;
    if (!stdin || this.process.hasExited)
      return Promise.reject(new Error(`the driver is gone: ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the driver did not answer "${body.op}" within ${timeoutMs} ms: ${this.stderr}`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      stdin.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  async stop(): Promise<void> {
    this.process.child.stdin?.end();
    await this.process.stop();
  }
}
