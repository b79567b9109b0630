// Runs a short command on the remote and collects its output, bounded in time.
import type { SshConnection } from "../ssh/index.js";
import { DeployFailedError } from "./errors.js";

export interface RemoteResult {
  /** Exit code; null when the command died of a signal or never reported one. */
  code: number | null;
  stdout: string;
  stderr: string;
}

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
    channel.on("exit", (exitCode: number | null) => (code = typeof exitCode === "number" ? exitCode : null));
    channel.on("close", () => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // Nothing to send: EOF on its stdin, so a command that reads it does not wait.
    channel.end();
  });
}
