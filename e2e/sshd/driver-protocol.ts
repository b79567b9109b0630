// What e2e/ssh.test.ts asks of driver.ts (over e2e/netns/child-rpc.ts), which runs
// connectSsh/deployAgent inside L (the test process itself cannot enter a namespace). Callbacks
// travel as scripted answers.
import type { SshConnectOptions } from "../../src/main/broker/ssh/index.js";

export interface WireConnectOptions extends Omit<
  SshConnectOptions,
  "confirmNewHostKey" | "passphrase" | "log"
> {
  /** Answers to passphrase prompts, in order; null once they run out. Absent: no prompt callback. */
  passphrases?: (string | null)[];
  /** The answer to a new host key prompt. Absent: no prompt callback. */
  confirmNewHostKey?: boolean;
}

export interface WireDeployOptions {
  agentFile: string;
  addonFile: string;
  version: string;
  remoteNode?: string | null;
}

export type DriverRequest =
  | { op: "connect"; options: WireConnectOptions; command?: string }
  | {
      op: "deploy";
      options: WireConnectOptions;
      deploy: WireDeployOptions;
      /** Start the agent with the returned command plus these arguments, read its HELLO, close. */
      startWithArgs?: string[];
      /** Written over this file of the deployed directory before the start: a swap after the upload. */
      replaceBeforeStart?: { file: string; content: string };
    }
  | {
      op: "transport";
      options: WireConnectOptions;
      /** Folder with backhaul-agent.cjs and its addon. */
      agentDir: string;
      remoteNode?: string | null;
    };

export type Prompt =
  | { kind: "passphrase"; file: string }
  | { kind: "host-key"; host: string; keyType: string; fingerprintSha256: string };

export interface WireError {
  name: string;
  code?: string;
  message: string;
  /** RemoteNotReadyError's problem codes. */
  problems?: string[];
}

export interface AgentStart {
  /** The first frame the agent wrote on stdout. */
  frameType: number;
  hello?: { version: number; role: string; softwareVersion: string };
  stderr: string;
}

export interface DriverReply {
  elapsedMs: number;
  prompts: Prompt[];
  logs: string[];
  error?: WireError;
  remoteAddress?: string;
  output?: { code: number | null; stdout: string; stderr: string };
  deployed?: { command: string; uploaded: boolean; remoteDir: string; arch: string };
  agent?: AgentStart;
  /** What sshAgentTransport's stderr delivered, all of it, once the agent exited. */
  transportStderr?: string;
}

/** Each request is answered with a DriverReply; a failure there is in its `error`. */
export type DriverCommands = {
  [Op in DriverRequest["op"]]: { args: Extract<DriverRequest, { op: Op }>; result: DriverReply };
};
