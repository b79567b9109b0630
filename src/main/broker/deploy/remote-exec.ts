// Runs a short command on the remote and collects its output, bounded in time.
import type { SshConnection } from "../ssh/index.js";
import { DeployFailedError } from "./errors.js";
import type { RemoteResult } from "./remote-shell.js";

const OUTPUT_LIMIT = 1024 * 1024;

export async function runRemote(
  connection: SshConnection,
  command: string,
  timeoutMs: number,
): Promise<RemoteResult> {
  const channel = await connection.exec(command);
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let code: number | null = null;
    let signal: string | undefined;
    const timer = setTimeout(() => {
      channel.close();
      reject(
        new DeployFailedError(`the remote command did not finish within ${Math.round(timeoutMs / 1000)} s`),
      );
    }, timeoutMs);
    channel.setEncoding("utf8");
    channel.stderr.setEncoding("utf8");
    channel.on("data", (chunk: string) => (stdout = (stdout + chunk).slice(0, OUTPUT_LIMIT)));
    channel.stderr.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(0, OUTPUT_LIMIT)));
    channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
      code = typeof exitCode === "number" ? exitCode : null;
      if (typeof exitSignal === "string") signal = exitSignal;
    });
    channel.on("close", () => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ...(signal !== undefined && { signal }) });
    });
    // Nothing to send: EOF on its stdin, so a command that reads it does not wait.
    channel.end();
  });
}
