// The remote shell over SSH: each command its own exec channel (through `sh -c`, as the login
// shell may be fish or csh), files through SFTP, and the agent on an exec channel of its own.
import type { SshConnection } from "../ssh/index.js";
import { runRemote } from "./remote-exec.js";
import type { AgentProcess, RemoteResult, RemoteShell } from "./remote-shell.js";
import { quoteShellArg } from "./shell-quote.js";

function call(start: (callback: (error: Error | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((error) => (error ? reject(error) : resolve())));
}

export function sshShell(connection: SshConnection, label = connection.remoteAddress): RemoteShell {
  return {
    label,
    run(script: string, timeoutMs: number): Promise<RemoteResult> {
      return runRemote(connection, `sh -c ${quoteShellArg(script)}`, timeoutMs);
    },
    async put(localPath, remotePath, mode, onProgress): Promise<void> {
      const sftp = await connection.sftp();
      try {
        await call((done) =>
          sftp.fastPut(
            localPath,
            remotePath,
            {
              mode,
              ...(onProgress && {
                step: (sent: number, _chunk: number, total: number) => onProgress(sent, total),
              }),
            },
            done,
          ),
        );
        // fastPut's mode passes through the remote's umask.
        await call((done) => sftp.chmod(remotePath, mode, done));
      } finally {
        sftp.end();
      }
    },
    async startAgent(command: string): Promise<AgentProcess> {
      // The user's shell expands SSH_CONNECTION before sudo resets the environment: the agent
      // then never routes the SSH client's own address into the tunnel.
      const channel = await connection.exec(`${command} --ssh-peer "\${SSH_CONNECTION%% *}"`);
      let code: number | null = null;
      channel.once("exit", (exitCode: number | null) => {
        code = typeof exitCode === "number" ? exitCode : null;
      });
      const exited = new Promise<number | null>((resolve) => {
        channel.once("close", () => resolve(code));
        connection.once("close", () => resolve(code));
      });
      return { stream: channel, stderr: channel.stderr, exited, close: () => connection.close() };
    },
  };
}
