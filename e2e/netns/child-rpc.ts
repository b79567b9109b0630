/**
 * The e2e suites' child processes (drivers, harnesses, clients and servers that must run inside a
 * namespace, since the test process itself cannot enter one) and the tests talk through this one
 * module: JSON lines, one object a line.
 *
 *   test -> child, on stdin:   {"id":N,"cmd":"name","args":…}
 *   child -> test, on stdout:  {"id":N,"result":…} or {"id":N,"error":{"message":…,"code":…}}
 *                              any other object is an event ({"ready":true}, {"event":"packets",…})
 *
 * The child's half is `serve` (a map of handlers; a handler that throws becomes an error line, never
 * a crash) and `emit`; the test's half is `ChildRpc` (typed requests, events waited for or
 * streamed, every wait bounded and every failure carrying the child's stderr).
 */
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Arrivals } from "./arrivals.js";
import { readJsonLines } from "./json-lines.js";
import type { NetworkNamespace } from "./namespace.js";
import type { ExitInfo, ManagedProcess } from "./process.js";

/** What a child answers: each command's argument and result. */
export type Commands = Record<string, { args: unknown; result: unknown }>;

export interface ErrorLine {
  message: string;
  code?: string;
}

/** A child's answer to a request that failed there. */
export class ChildError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "ChildError";
  }
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STDERR_TAIL_CHARS = 8_000;
/** Events kept for `waitFor` and for failure messages: a long stream holds bounded memory. */
const DEFAULT_HISTORY = 1_000;
/** How many of the latest events a failed wait shows. */
const RECENT_EVENTS = 10;
/** After the child exits, how long its last lines may take to be read. */
const OUTPUT_GRACE_MS = 500;

export interface StartOptions {
  /** Arguments after the script. */
  args?: readonly string[];
  /** Node flags before it (profiling, benchmarks). */
  nodeFlags?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** How failures name the child; the script's file name by default. */
  name?: string;
  history?: number;
}

interface Pending {
  cmd: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

export class ChildRpc<C extends Commands = Record<never, never>, E extends object = Record<string, unknown>> {
  readonly events: Arrivals<E>;
  private stderrTail = "";
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: E) => void>();
  private goneNote: string | undefined;

  constructor(
    readonly process: ManagedProcess,
    readonly name: string = process.description,
    history = DEFAULT_HISTORY,
  ) {
    this.events = new Arrivals(history);
    const { stdout, stderr } = process.child;
    stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    readJsonLines(
      stdout,
      (value) => this.receive(value),
      (line) => this.noteOnStderr(`(not JSON on stdout) ${line}`),
    );
    const outputRead = new Promise<void>((done) => {
      if (!stdout || stdout.closed) done();
      else stdout.once("close", done);
    });
    void process.exited.then(async (info) => {
      await Promise.race([outputRead, new Promise((done) => setTimeout(done, OUTPUT_GRACE_MS))]);
      this.goneNote = `${this.name} exited (${info.code ?? info.signal})`;
      const error = new Error(this.withStderr(`${this.goneNote} before answering`));
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
      this.events.wake();
    });
  }

  /** Starts `script` (a path from the repository's root) under Node with tsx, inside `namespace`. */
  static start<C extends Commands = Record<never, never>, E extends object = Record<string, unknown>>(
    namespace: NetworkNamespace,
    script: string,
    options: StartOptions = {},
  ): ChildRpc<C, E> {
    const args = [
      ...(options.nodeFlags ?? []),
      "--import",
      "tsx",
      resolve(ROOT, script),
      ...(options.args ?? []),
    ];
    const process = namespace.spawn(globalThis.process.execPath, args, { cwd: ROOT, env: options.env });
    return new ChildRpc<C, E>(
      process,
      options.name ?? script.split("/").slice(-2).join("/"),
      options.history,
    );
  }

  /** The end of the child's stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** The events kept and the child's stderr, for a failure message. */
  get log(): string {
    return `events: ${JSON.stringify(this.events.all, null, 2)}\nstderr:\n${this.stderrTail}`;
  }

  /** Calls `listener` with every event from now on. */
  onEvent(listener: (event: E) => void): void {
    this.listeners.add(listener);
  }

  /** What `match` makes of the first event it accepts, kept already or still to come. */
  async waitFor<T>(what: string, match: (event: E) => T | undefined, timeoutMs = 20_000): Promise<T> {
    try {
      return await this.events.find(what, match, { timeoutMs, gone: () => this.goneNote });
    } catch (error) {
      const lately = JSON.stringify(this.events.all.slice(-RECENT_EVENTS));
      throw new Error(
        this.withStderr(`${this.name}: ${(error as Error).message}; events lately: ${lately}`),
        {
          cause: error,
        },
      );
    }
  }

  /** Sends `cmd` and resolves with its result; rejects with the child's error, its exit or a timeout. */
  request<K extends keyof C & string>(
    cmd: K,
    args: C[K]["args"],
    timeoutMs = 10_000,
  ): Promise<C[K]["result"]> {
    const stdin = this.process.child.stdin;
    if (!stdin || !stdin.writable || this.goneNote !== undefined)
      return Promise.reject(new Error(this.withStderr(`${this.name} is gone, cannot "${cmd}"`)));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(this.withStderr(`${this.name} did not answer "${cmd}" within ${timeoutMs} ms`)));
      }, timeoutMs);
      this.pending.set(id, {
        cmd,
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result as C[K]["result"]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      stdin.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  }

  /** Ends the child's stdin: a child that serves nothing else then leaves. */
  closeInput(): void {
    this.process.child.stdin?.end();
  }

  waitForExit(timeoutMs = 30_000): Promise<ExitInfo> {
    return this.process.waitForExit(timeoutMs);
  }

  /** Closes stdin, then stops the child by PID (SIGTERM, then SIGKILL). */
  async stop(): Promise<ExitInfo> {
    this.closeInput();
    return this.process.stop();
  }

  private receive(value: Record<string, unknown>): void {
    if (isReply(value)) {
      const waiting = typeof value.id === "number" ? this.pending.get(value.id) : undefined;
      if (!waiting) {
        this.noteOnStderr(`(an answer nobody waits for) ${JSON.stringify(value)}`);
        return;
      }
      this.pending.delete(value.id as number);
      if (value.error === undefined) waiting.resolve(value.result);
      else {
        const { message, code } = value.error as ErrorLine;
        waiting.reject(new ChildError(`${this.name}: "${waiting.cmd}" failed: ${message}`, code));
      }
      return;
    }
    const event = value as E;
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  private noteOnStderr(line: string): void {
    this.stderrTail = `${this.stderrTail}${line}\n`.slice(-STDERR_TAIL_CHARS);
  }

  private withStderr(message: string): string {
    const stderr = this.stderrTail.trim();
    return stderr ? `${message}; stderr:\n${stderr}` : message;
  }
}

function isReply(value: Record<string, unknown>): boolean {
  return "id" in value && ("result" in value || "error" in value);
}

/** A client script that measures or checks something once and answers with what it found. */
export interface OneShotScript<C extends Commands> {
  /** Starts the script in `namespace`, asks it `cmd`, and stops it. */
  call<K extends keyof C & string>(
    namespace: NetworkNamespace,
    cmd: K,
    args: C[K]["args"],
    timeoutMs: number,
  ): Promise<C[K]["result"]>;
}

/** `script` (a path from the repository's root) as a one-shot client answering `C`. */
export function oneShot<C extends Commands>(script: string): OneShotScript<C> {
  return {
    async call(namespace, cmd, args, timeoutMs) {
      const child = ChildRpc.start<C>(namespace, script);
      try {
        return await child.request(cmd, args, timeoutMs);
      } finally {
        await child.stop();
      }
    },
  };
}

// ---- the child's half ----

/** Each command's handler: a thrown error is answered as an error line. */
export type Handlers<C extends Commands> = {
  [K in keyof C]: (args: C[K]["args"]) => C[K]["result"] | Promise<C[K]["result"]>;
};

/** Writes one event line to the test. */
export function emit(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

export interface ServeOptions {
  /** The test ended stdin (or went away): what to release. */
  onInputEnd?: () => void;
}

export interface Serving {
  /** Stops reading stdin: the process then ends once nothing else holds its event loop. */
  close(): void;
}

/** Answers the requests on stdin with `handlers`, one reply line each, in the order they finish. */
export function serve<C extends Commands>(handlers: Handlers<C>, options: ServeOptions = {}): Serving {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => void answer(handlers, line));
  lines.on("close", () => options.onInputEnd?.());
  return {
    close: () => {
      lines.close();
      process.stdin.destroy();
    },
  };
}

async function answer<C extends Commands>(handlers: Handlers<C>, line: string): Promise<void> {
  let id: unknown = null;
  try {
    const request = JSON.parse(line) as { id?: unknown; cmd?: unknown; args?: unknown };
    id = request.id ?? null;
    const cmd = String(request.cmd);
    if (!Object.hasOwn(handlers, cmd)) throw new Error(`unknown command "${cmd}"`);
    const handler: Handlers<C>[keyof C] = handlers[cmd as keyof C];
    const result = await handler(request.args as C[keyof C]["args"]);
    emit({ id, result: result ?? null });
  } catch (error) {
    emit({ id, error: errorLine(error) });
  }
}

function errorLine(error: unknown): ErrorLine {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { message: error.message, ...(typeof code === "string" && { code }) };
}
