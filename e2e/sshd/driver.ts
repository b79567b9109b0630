// Runs the SSH client side of e2e/ssh.test.ts inside namespace L:
//   ip netns exec L node --import tsx e2e/sshd/driver.ts
// Serves driver-protocol.ts's requests over e2e/netns/child-rpc.ts.
import { writeFile } from "node:fs/promises";
import { finished } from "node:stream/promises";
import type { ClientChannel } from "ssh2";
import { deployAgent, RemoteNotReadyError, shellCommand } from "../../src/main/broker/deploy/index.js";
import { runRemote } from "../../src/main/broker/deploy/remote-exec.js";
import { sshShell } from "../../src/main/broker/deploy/ssh-shell.js";
import { sshAgentTransport } from "../../src/main/broker/ssh-agent-transport.js";
import {
  connectSsh,
  SshError,
  type SshConnectOptions,
  type SshConnection,
} from "../../src/main/broker/ssh/index.js";
import { decodeHello, FRAME_HEADER_BYTES, FrameType } from "../../src/shared/link-protocol.js";
import { serve } from "../netns/child-rpc.js";
import type {
  AgentStart,
  DriverCommands,
  DriverReply,
  DriverRequest,
  Prompt,
  WireConnectOptions,
  WireError,
} from "./driver-protocol.js";

function toOptions(wire: WireConnectOptions, prompts: Prompt[], logs: string[]): SshConnectOptions {
  const { passphrases, confirmNewHostKey, ...options } = wire;
  const answers = [...(passphrases ?? [])];
  return {
    ...options,
    log: (line) => logs.push(line),
    ...(passphrases && {
      passphrase: async (file: string) => {
        prompts.push({ kind: "passphrase", file });
        return answers.shift() ?? null;
      },
    }),
    ...(confirmNewHostKey !== undefined && {
      confirmNewHostKey: async (info) => {
        prompts.push({ kind: "host-key", ...info });
        return confirmNewHostKey;
      },
    }),
  };
}

function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: "unknown", message: String(error) };
  return {
    name: error.name,
    message: error.message,
    ...(error instanceof SshError && { code: error.code }),
    ...(error instanceof RemoteNotReadyError && { problems: error.problems.map((problem) => problem.code) }),
  };
}

/** Reads the agent's first frame from its stdout, then closes the channel (the agent sees EOF). */
async function startAgent(connection: SshConnection, command: string): Promise<AgentStart> {
  const channel: ClientChannel = await connection.exec(command);
  let stdout = Buffer.alloc(0);
  let stderr = "";
  channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const frame = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no frame from the agent within 15 s; stderr: ${stderr}`)),
      15_000,
    );
    channel.on("data", (chunk: Buffer) => {
      stdout = Buffer.concat([stdout, chunk]);
      if (stdout.length < FRAME_HEADER_BYTES) return;
      const length = stdout.readUInt32BE(0);
      if (stdout.length >= 4 + length) {
        clearTimeout(timer);
        resolve(stdout.subarray(0, 4 + length));
      }
    });
    channel.on("close", () =>
      reject(new Error(`the agent exited before its first frame; stderr: ${stderr}`)),
    );
  });
  const closed = new Promise<void>((resolve) => channel.once("close", () => resolve()));
  channel.end();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  const frameType = frame[4] ?? -1;
  const result: AgentStart = { frameType, stderr };
  if (frameType === FrameType.Hello) {
    const hello = decodeHello(frame.subarray(FRAME_HEADER_BYTES));
    result.hello = { version: hello.version, role: hello.role, softwareVersion: hello.softwareVersion };
  }
  return result;
}

/** Opens the agent the way a session does (sshAgentTransport) and reads its stderr to the end. */
async function runTransport(
  request: Extract<DriverRequest, { op: "transport" }>,
  logs: string[],
): Promise<string> {
  const { options } = request;
  const open = sshAgentTransport({
    target: {
      kind: "ssh",
      label: options.host,
      host: options.host,
      port: options.port ?? 22,
      user: options.username,
      identityFiles: [...(options.identityFiles ?? [])],
      proxyJump: null,
      proxyCommand: null,
      hostKeyAlias: null,
      strictHostKeyChecking: null,
      userKnownHostsFiles: [...(options.knownHostsFiles ?? [])],
      source: "url",
    },
    identityFiles: [...(options.identityFiles ?? [])],
    knownHostsFile: options.knownHostsFiles?.[0] ?? null,
    acceptNewHostKey: false,
    remoteNode: request.remoteNode ?? null,
    agentDir: request.agentDir,
    log: (line) => logs.push(line),
  });
  const transport = await open(() => undefined);
  let stderr = "";
  transport.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  // A session reads the link; the channel closes only once its output was read to the end.
  transport.stream.resume();
  try {
    const ended = Promise.all([transport.exited, finished(transport.stderr)]);
    const timeout = new Promise((_, reject) =>
      setTimeout(
        () => reject(new Error(`the agent did not exit within 20 s; stderr: ${stderr}`)),
        20_000,
      ).unref(),
    );
    await Promise.race([ended, timeout]);
  } finally {
    transport.close();
  }
  return stderr;
}

async function handle(request: DriverRequest): Promise<DriverReply> {
  const prompts: Prompt[] = [];
  const logs: string[] = [];
  const started = Date.now();
  const reply = (fields: Partial<DriverReply>): DriverReply => ({
    elapsedMs: Date.now() - started,
    prompts,
    logs,
    ...fields,
  });
  if (request.op === "transport") {
    try {
      return reply({ transportStderr: await runTransport(request, logs) });
    } catch (error) {
      return reply({ error: toWireError(error) });
    }
  }
  let connection: SshConnection | undefined;
  try {
    connection = await connectSsh(toOptions(request.options, prompts, logs));
    const remoteAddress = connection.remoteAddress;
    if (request.op === "connect") {
      const output = request.command ? await runRemote(connection, request.command, 20_000) : undefined;
      return reply({ remoteAddress, ...(output && { output }) });
    }
    const deployed = await deployAgent(sshShell(connection), {
      ...request.deploy,
      log: (line) => logs.push(line),
    });
    if (request.replaceBeforeStart) {
      const { file, content } = request.replaceBeforeStart;
      await writeFile(`${deployed.remoteDir}/${file}`, content);
    }
    const agent = request.startWithArgs
      ? await startAgent(connection, `${deployed.command} ${shellCommand(request.startWithArgs)}`)
      : undefined;
    return reply({ remoteAddress, deployed, ...(agent && { agent }) });
  } catch (error) {
    return reply({ error: toWireError(error) });
  } finally {
    connection?.close();
  }
}

serve<DriverCommands>({ connect: handle, deploy: handle, transport: handle });
