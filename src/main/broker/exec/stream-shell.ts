// The remote shell over one byte stream: the stdin and stdout of a command (`kubectl exec -i pod
// sh`) that reach a POSIX sh on the remote. One command at a time: each is written as a subshell
// with stdin from /dev/null (so nothing it runs eats the next command), followed by two markers,
// `<nonce> <status>` on stdout and `<nonce>` on stderr; its output is what came before them. The
// nonce is printed in two halves, so a command that echoes its input (not a shell) never shows it.
//
// Uploads are base64 in here-documents, not raw bytes after `head -c N`: dash reads its input in
// blocks, so bytes meant for `head` may already sit in the shell's buffer (and a pipe that is not
// binary-clean, or a `head` that reads ahead, corrupts them silently). A here-document is read by
// the shell itself, its delimiter cannot occur in base64, and busybox has `base64 -d` too; the
// cost is a third more bytes, once per version.
//
// startAgent ends the protocol: `exec` puts the agent in the shell's place, and from the first
// byte after the marker the stream is the link.
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { Duplex, PassThrough, type Readable, type Writable } from "node:stream";
import { sanitiseRemoteText } from "../../../shared/remote-text.js";
import { DeployFailedError } from "../deploy/errors.js";
import type { AgentProcess, RemoteResult, RemoteShell } from "../deploy/remote-shell.js";
import { quoteShellArg } from "../deploy/shell-quote.js";

/** What of a spawned command the shell uses (a ChildProcess with piped stdio). */
export interface ShellProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: "close", listener: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
}

/** The command ended (or never ran) while the shell was in use: names it, with its last stderr lines. */
export class ShellExitedError extends Error {
  override readonly name = "ShellExitedError";
}

/** A command's output beyond this is an error: ours print a few lines. */
const OUTPUT_LIMIT = 4 * 1024 * 1024;
/** Raw bytes per here-document: 1 MiB of base64, in 76-character lines. */
const UPLOAD_CHUNK = 768 * 1024;
const BASE64_LINE = 76;
const STDERR_HISTORY = 8 * 1024;
const TAIL_LINES = 5;
/** After the command exits, how long its last stderr bytes may take to arrive. */
const CLOSE_GRACE_MS = 2_000;

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

export class StreamShell implements RemoteShell {
  private stdout = Buffer.alloc(0);
  private stderr = Buffer.alloc(0);
  private history = "";
  private waiter: Waiter | null = null;
  private ended: Error | null = null;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private handedOver = false;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly onStdout = (chunk: Buffer): void => {
    this.stdout = Buffer.concat([this.stdout, chunk]);
    if (this.stdout.length > OUTPUT_LIMIT) this.end(this.problem("printed more than 4 MB for one command"));
    this.waiter?.check();
  };
  private readonly onStderr = (chunk: Buffer): void => {
    this.stderr = Buffer.concat([this.stderr, chunk]);
    if (this.stderr.length > OUTPUT_LIMIT) this.stderr = this.stderr.subarray(-OUTPUT_LIMIT);
    this.waiter?.check();
  };

  /**
   * Takes over `child`'s stdio and waits until a shell answers on it (anything printed before, a
   * banner, is dropped). `label` names the command in messages, as the user typed it.
   */
  static async open(child: ShellProcess, label: string, timeoutMs: number): Promise<StreamShell> {
    const shell = new StreamShell(child, label);
    // A terminal (`-t`) echoes what is written and turns "\n" into "\r\n": no marker ever matches.
    const answered = await shell.run(
      ":",
      timeoutMs,
      "answer as a POSIX shell on its standard output (with -t for a terminal it cannot: use -i alone)",
    );
    if (answered.code !== 0) throw shell.problem("did not run `:` (is it a POSIX shell?)");
    return shell;
  }

  private constructor(
    private readonly child: ShellProcess,
    readonly label: string,
  ) {
    child.stdout.on("data", this.onStdout);
    child.stderr.on("data", this.onStderr);
    // A write after the command died fails with EPIPE; its exit says more, and is reported.
    child.stdin.on("error", () => undefined);
    child.once("error", (error) => this.end(new ShellExitedError(`cannot run ${label}: ${error.message}`)));
    child.once("exit", (code, signal) => {
      this.exit = { code, signal };
      // Its last stderr bytes may still be in the pipe: wait for it to close, a little.
      setTimeout(() => this.end(this.exitedError()), CLOSE_GRACE_MS).unref();
    });
    child.once("close", () => this.end(this.exitedError()));
  }

  /** The command's last stderr lines, sanitised, for messages. */
  tail(): string {
    return sanitisedTail(this.history + this.stderr.toString("utf8"));
  }

  run(script: string, timeoutMs: number, what = "finish a command"): Promise<RemoteResult> {
    const next = this.busy.then(() => this.runNow(script, timeoutMs, what));
    this.busy = next.catch(() => undefined);
    return next;
  }

  async put(
    localPath: string,
    remotePath: string,
    mode: number,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<void> {
    const path = quoteShellArg(remotePath);
    const file = await open(localPath, "r");
    try {
      const total = (await file.stat()).size;
      const buffer = Buffer.alloc(UPLOAD_CHUNK);
      let sent = 0;
      let first = true;
      while (first || sent < total) {
        const { bytesRead } = await file.read(buffer, 0, UPLOAD_CHUNK, sent);
        if (bytesRead === 0 && sent < total) throw new Error(`${localPath} shrank while it was read`);
        const delimiter = `BACKHAUL_EOF_${randomBytes(8).toString("hex")}`;
        const lines = base64Lines(buffer.subarray(0, bytesRead));
        // The first write creates the file for the user alone; later ones append.
        const script = first
          ? `umask 077; base64 -d > ${path} <<'${delimiter}'\n${lines}${delimiter}`
          : `base64 -d >> ${path} <<'${delimiter}'\n${lines}${delimiter}`;
        const result = await this.run(script, 60_000, "take an upload");
        if (result.code !== 0)
          throw new DeployFailedError(
            `writing ${remotePath} failed: ${sanitiseRemoteText(result.stderr).trim() || `exit code ${result.code}`}`,
          );
        sent += bytesRead;
        first = false;
        onProgress?.(sent, total);
      }
      const chmod = await this.run(`chmod ${mode.toString(8)} ${path}`, 60_000);
      if (chmod.code !== 0)
        throw new DeployFailedError(`chmod ${remotePath} failed: ${sanitiseRemoteText(chmod.stderr).trim()}`);
    } finally {
      await file.close();
    }
  }

  async startAgent(command: string): Promise<AgentProcess> {
    await this.busy;
    const [a, b, marker] = nonce();
    // Nothing more is written until the marker is seen: by then the shell has read its last line.
    await this.exchange(
      `printf '\\n%s%s 0\\n' ${a} ${b}; printf '\\n%s%s\\n' ${a} ${b} >&2; exec ${command}\n`,
      marker,
      30_000,
      "start the agent",
    );
    this.handedOver = true;
    const { stdin, stdout, stderr } = this.child;
    stdout.off("data", this.onStdout);
    stderr.off("data", this.onStderr);
    // What came after the markers is already the agent's (or sudo's).
    const out = new PassThrough();
    out.write(this.stdout);
    stdout.pipe(out);
    const err = new PassThrough();
    err.write(this.stderr);
    stderr.pipe(err);
    this.stdout = Buffer.alloc(0);
    this.stderr = Buffer.alloc(0);
    const exited = new Promise<number | null>((resolve) => {
      if (this.exit) resolve(this.exit.code);
      else this.child.once("exit", (code) => resolve(code));
    });
    return {
      stream: Duplex.from({ readable: out, writable: stdin }),
      stderr: err,
      exited,
      close: () => {
        stdin.end();
        if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
      },
    };
  }

  private async runNow(script: string, timeoutMs: number, what: string): Promise<RemoteResult> {
    const [a, b, marker] = nonce();
    const text =
      `(\n${script}\n) </dev/null\n` +
      `printf '\\n%s%s %s\\n' ${a} ${b} "$?"; printf '\\n%s%s\\n' ${a} ${b} >&2\n`;
    return this.exchange(text, marker, timeoutMs, what);
  }

  /** Writes `text`, then waits for the two markers; what came before them is the output. */
  private exchange(text: string, marker: string, timeoutMs: number, what: string): Promise<RemoteResult> {
    if (this.handedOver) return Promise.reject(new DeployFailedError(`${this.label} runs the agent now`));
    if (this.ended) return Promise.reject(this.ended);
    const outMarker = new RegExp(`\\n${marker} (\\d+)\\n`);
    const errMarker = Buffer.from(`\n${marker}\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.end(this.problem(`did not ${what} within ${Math.round(timeoutMs / 1000)} s`)),
        timeoutMs,
      );
      const settle = (): void => {
        clearTimeout(timer);
        this.waiter = null;
      };
      this.waiter = {
        check: () => {
          // latin1 keeps one character per byte, so the index is the Buffer's.
          const found = outMarker.exec(this.stdout.toString("latin1"));
          const errAt = this.stderr.indexOf(errMarker);
          if (!found || errAt < 0) return;
          settle();
          const stdout = this.stdout.subarray(0, found.index).toString("utf8");
          const stderr = this.stderr.subarray(0, errAt).toString("utf8");
          this.stdout = this.stdout.subarray(found.index + found[0].length);
          this.stderr = this.stderr.subarray(errAt + errMarker.length);
          this.history = (this.history + stderr).slice(-STDERR_HISTORY);
          resolve({ code: Number(found[1]), stdout, stderr });
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      this.child.stdin.write(text);
      this.waiter.check();
    });
  }

  /** The shell is unusable from here: the waiting command fails with `error`, and so do later ones. */
  private end(error: Error): void {
    if (this.handedOver) return;
    this.ended ??= error;
    this.waiter?.fail(this.ended);
    if (!this.exit) this.child.kill("SIGTERM");
  }

  private exitedError(): ShellExitedError {
    const how = this.exit?.signal
      ? `was ended by ${this.exit.signal}`
      : `exited with code ${this.exit?.code ?? "unknown"}`;
    return this.problem(`${how} before the agent started`);
  }

  private problem(what: string): ShellExitedError {
    const tail = this.tail();
    return new ShellExitedError(
      `${this.label} ${what}${tail ? `; its last lines on stderr:\n${tail}` : " (it wrote nothing on stderr)"}`,
    );
  }
}

/** Two random halves and what they print as together: never in the text we write. */
function nonce(): [string, string, string] {
  const a = randomBytes(8).toString("hex");
  const b = randomBytes(8).toString("hex");
  return [a, b, a + b];
}

function base64Lines(bytes: Buffer): string {
  const text = bytes.toString("base64");
  let lines = "";
  for (let at = 0; at < text.length; at += BASE64_LINE) lines += `${text.slice(at, at + BASE64_LINE)}\n`;
  return lines;
}

export function sanitisedTail(text: string, lines = TAIL_LINES): string {
  return text
    .split("\n")
    .map((line) => sanitiseRemoteText(line).trim())
    .filter(Boolean)
    .slice(-lines)
    .map((line) => `  ${line}`)
    .join("\n");
}
