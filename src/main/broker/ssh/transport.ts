// The byte stream SSH runs over: a TCP socket, or the stdin/stdout of a ProxyCommand (how
// `gh codespace ssh --stdio` reaches a codespace). ProxyJump is in proxy-jump.ts.
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { UnreachableError } from "./errors.js";
import { sanitiseRemoteText } from "../../../shared/remote-text.js";

export interface Transport {
  stream: Duplex;
  /** The peer's IP address for TCP; the host name as given otherwise. */
  remoteAddress: string;
  /**
   * Why the transport itself failed (the ProxyCommand died): the real reason a handshake broke.
   * Waits up to `graceMs` for it, since the broken pipe is often noticed before the exit.
   */
  failure(graceMs: number): Promise<UnreachableError | undefined>;
  close(): void;
}

function errorCode(error: unknown): string | undefined {
  // With several addresses (happy eyeballs) Node reports an AggregateError of per-address errors.
  const first = error instanceof AggregateError ? (error.errors[0] as unknown) : error;
  const code = (first as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function describeSocketError(host: string, port: number, error: unknown): string {
  switch (errorCode(error)) {
    case "ENOTFOUND":
    case "EAI_NONAME":
    case "EAI_NODATA":
      return `the name ${host} does not resolve`;
    case "EAI_AGAIN":
      return `the name ${host} could not be resolved right now (is the network or DNS down?)`;
    case "ECONNREFUSED":
      return "the connection was refused (nothing listens on that port)";
    case "ETIMEDOUT":
      return "the connection timed out";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "there is no route to it";
    case "ECONNRESET":
      return "the connection was reset";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** A TCP connection with TCP_NODELAY, or an UnreachableError within `timeoutMs`. */
export function openTcp(host: string, port: number, timeoutMs: number): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new UnreachableError(host, port, `no answer within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new UnreachableError(host, port, describeSocketError(host, port, error), { cause: error }));
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      // Small request/response exchanges would otherwise wait ~40 ms (Nagle against delayed ACK).
      socket.setNoDelay(true);
      resolve({
        stream: socket,
        remoteAddress: socket.remoteAddress ?? host,
        failure: async () => undefined,
        close: () => socket.destroy(),
      });
    });
  });
}

/** OpenSSH's ProxyCommand tokens: %h host, %p port, %r user, %% a percent sign. */
export function expandProxyCommand(
  command: string,
  tokens: { host: string; port: number; username: string },
): string {
  return command.replace(/%([hpr%])/g, (_, token: string) => {
    switch (token) {
      case "h":
        return tokens.host;
      case "p":
        return String(tokens.port);
      case "r":
        return tokens.username;
      default:
        return "%";
    }
  });
}

const STDERR_KEPT = 4000;

/** Spawns the ProxyCommand through the shell; its stdin/stdout carry the SSH stream. */
export function openProxyCommand(
  command: string,
  tokens: { host: string; port: number; username: string },
): Transport {
  const expanded = expandProxyCommand(command, tokens);
  const child = spawn(expanded, { shell: true, stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
  let stderr = "";
  let failure: UnreachableError | undefined;
  let exited = false;
  const fail = (reason: string, cause?: unknown): void => {
    const said = stderr.trim() ? `; it said: ${sanitiseRemoteText(stderr).trim()}` : "";
    failure ??= new UnreachableError(
      tokens.host,
      tokens.port,
      `the ProxyCommand \`${expanded}\` ${reason}${said}`,
      {
        hint: "Check that the command works on its own (it must connect its stdin/stdout to the SSH server).",
        cause,
      },
    );
  };
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  child.once("error", (error) => fail(`could not start (${error.message})`, error));
  // "close", not "exit": by then all of its stderr has been read.
  const closed = new Promise<void>((resolve) =>
    child.once("close", (code, signal) => {
      exited = true;
      fail(`exited (${signal ?? `code ${code}`})`);
      resolve();
    }),
  );
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  return {
    stream,
    remoteAddress: tokens.host,
    failure: async (graceMs) => {
      if (!failure && !exited) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      return failure;
    },
    close: () => {
      stream.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    },
  };
}
