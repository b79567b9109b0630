// Runs a client (iperf3, the latency client) in a namespace as a process its lab tracks, so an
// interrupted bench stops it with the namespaces instead of leaving it waiting on a dead peer.
import type { SpawnOptions } from "node:child_process";
import type { CommandResult, NetworkNamespace } from "../../netns/index.js";

export function runTracked(
  namespace: NetworkNamespace,
  file: string,
  args: readonly string[],
  options: { timeoutMs: number; cwd?: string },
): Promise<CommandResult> {
  const spawnOptions: SpawnOptions = options.cwd ? { cwd: options.cwd } : {};
  const managed = namespace.spawn(file, args, spawnOptions);
  managed.child.stdin?.end();
  let stdout = "";
  let stderr = "";
  managed.child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  managed.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void managed.stop(500);
    }, options.timeoutMs);
    // "close", not "exit": by then stdout has been read to its end.
    managed.child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    managed.child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${error.message}`, timedOut });
    });
  });
}
