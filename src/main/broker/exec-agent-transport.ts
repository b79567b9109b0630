/**
 * How a session reaches a remote through a command (`exec:kubectl exec -i devpod -- sh`): run
 * the command here, without a shell; over its stdin and stdout, probe, upload and start the agent
 * as over SSH (deploy/, through the stream shell); the same stream then carries the link. Every
 * connect, reconnects included, runs the command afresh; so does a fall back to the proxy entrance
 * after sudo refused the user (the refused start has ended the command's shell).
 *
 * Not implemented: a terminal in the path (`kubectl exec -t`: it echoes and rewrites line ends),
 * and a remote shell that is not POSIX (fish, csh): the command must end in `sh`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Duplex, PassThrough, Transform, type TransformCallback } from "node:stream";
import type { ConnectStep } from "../../shared/api.js";
import { RemoteNotReadyError, SudoRefusedError } from "./deploy/index.js";
import { launchAgent, type LaunchAgentOptions } from "./deploy/launch-agent.js";
import { agentTransport } from "./agent-transport.js";
import { sanitisedTail, StreamShell } from "./exec/stream-shell.js";
import type { AgentTransport } from "./session.js";
import { TargetError, type ExecTarget } from "./targets/index.js";

export interface ExecAgentTransportOptions extends LaunchAgentOptions {
  target: ExecTarget;
}

/** kubectl may wait for a pod to be scheduled, a vendor CLI for a login: generous, but bounded. */
const SHELL_TIMEOUT_MS = 60_000;
/** From the agent's start to its first byte (its HELLO): node's start, sudo's copy and check. */
const AGENT_SPEAKS_TIMEOUT_MS = 30_000;

/** Errors the user must fix end the session; a command that failed this time is tried again. */
export function execAgentTransport(options: ExecAgentTransportOptions) {
  return agentTransport(options, open, [RemoteNotReadyError, SudoRefusedError, TargetError]);
}

async function open(
  options: ExecAgentTransportOptions,
  step: (step: ConnectStep) => void,
  exitReady?: Promise<void>,
): Promise<AgentTransport> {
  const { target } = options;
  const [command = "", ...args] = target.argv;
  step("ssh");
  options.log(`running ${target.spec}`);
  const children: ChildProcess[] = [];
  const runCommand = (): Promise<StreamShell> => {
    // Its own process group: a terminal's Ctrl+C reaches the CLI, which then ends the session in
    // order (BYE, the agent restores the remote); it must not cut the command's stream first.
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
    children.push(child);
    return StreamShell.open(child, target.spec, SHELL_TIMEOUT_MS);
  };
  const stop = (): void => {
    for (const child of children) {
      child.stdin?.end();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    }
  };
  try {
    const shell = await runCommand();
    step("upload");
    const { agent, stderr } = await launchAgent(
      shell,
      { label: target.label, sudoHost: target.label },
      {
        ...options,
        ...(exitReady && { exitReady }),
        freshShell: async () => {
          step("ssh");
          options.log(
            `running ${target.spec} again, for the proxy entrance (sudo's refusal ended its shell)`,
          );
          const fresh = await runCommand();
          step("agent");
          return fresh;
        },
      },
      step,
    );
    // Its last lines are kept for the message, should the command end before the agent speaks.
    const kept: string[] = [];
    const log = new PassThrough();
    stderr.on("data", (chunk: Buffer | string) => {
      kept.push(...String(chunk).split("\n").filter(Boolean));
      kept.splice(0, Math.max(0, kept.length - 20));
    });
    stderr.pipe(log);
    const spoke = firstByte();
    const link = agent.stream.pipe(spoke.transform);
    const outcome = await Promise.race([
      spoke.seen.then(() => "spoke" as const),
      agent.exited.then((code) => ({ code })),
      delay(AGENT_SPEAKS_TIMEOUT_MS).then(() => "timeout" as const),
    ]);
    if (outcome !== "spoke") {
      agent.close();
      const tail = sanitisedTail([shell.tail(), ...kept].join("\n"));
      const what =
        outcome === "timeout"
          ? `the agent started through ${target.spec} did not answer within ${AGENT_SPEAKS_TIMEOUT_MS / 1000} s`
          : `${target.spec} exited${outcome.code === null ? "" : ` with code ${outcome.code}`} before the agent spoke`;
      throw new Error(`${what}${tail ? `; its last lines on stderr:\n${tail}` : ""}`);
    }
    return {
      // Read through the watch (nothing is lost), written straight to the command's stdin.
      stream: Duplex.from({ readable: link, writable: agent.stream }),
      stderr: log,
      close: () => agent.close(),
      exited: agent.exited.then(() => undefined),
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/** A pass-through that notices the first byte, without taking it from whoever reads later. */
function firstByte(): { transform: Transform; seen: Promise<void> } {
  let seen: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (seen = resolve));
  const transform = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      if (chunk.length > 0) seen();
      done(null, chunk);
    },
  });
  return { transform, seen: promise };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
