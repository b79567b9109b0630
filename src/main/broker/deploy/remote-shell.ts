// What deployment needs of a remote, whatever carries it: an SSH connection (ssh-shell.ts: exec
// channels and SFTP) or one byte stream to a POSIX shell (../exec/stream-shell.ts: `kubectl exec
// -i`, `docker exec -i`). The probe, the upload checks and the agent's start are written once,
// against this (deploy-agent.ts, agent-start.ts).
import type { Duplex, Readable } from "node:stream";

export interface RemoteResult {
  /** Exit code; null when the command died of a signal or never reported one. */
  code: number | null;
  /** The signal that ended it ("SIGKILL"), when the remote said so. */
  signal?: string;
  stdout: string;
  stderr: string;
}

/** The started agent (or sudo, before it runs the agent): its stdin and stdout are the link. */
export interface AgentProcess {
  stream: Duplex;
  /** Raw bytes: sudo's words first when sudo starts it (root-handshake.ts), then the agent's log. */
  stderr: Readable;
  /** Resolves when it has ended and its stream closed: with its exit code, null when none was told. */
  exited: Promise<number | null>;
  /** Ends it (the SSH connection, or the command): the agent sees its link end and cleans up. */
  close(): void;
}

export interface RemoteShell {
  /** For messages: "devbox", "exec:kubectl exec -i devpod -- sh". */
  readonly label: string;
  /** Runs a POSIX sh script, stdin empty, bounded in time; a DeployFailedError when it cannot. */
  run(script: string, timeoutMs: number): Promise<RemoteResult>;
  /**
   * Writes the local file's bytes to `remotePath` (absolute, in an existing directory) with `mode`.
   * Not atomic and not checked: upload-verified.ts writes a temporary name, checks, then renames.
   */
  put(
    localPath: string,
    remotePath: string,
    mode: number,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<void>;
  /**
   * Runs `command` (a sh command line) as the agent; after this call the shell is the agent's and
   * takes no more commands.
   */
  startAgent(command: string): Promise<AgentProcess>;
}
