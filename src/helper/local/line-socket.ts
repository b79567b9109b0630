/**
 * JSON-lines helpers for the main <-> helper sockets: the first line of a connection (after
 * which a link connection carries raw frames), and a bounded line splitter for control traffic.
 */
import type { Readable } from "node:stream";

/** The stream ended before its first line; `bytesRead` 0 means the peer sent nothing at all. */
export class EndedBeforeFirstLineError extends Error {
  override readonly name = "EndedBeforeFirstLineError";
  constructor(readonly bytesRead: number) {
    super("the connection ended before its first line");
  }
}

/**
 * Resolves with the stream's first line, leaving whatever followed it unread (unshifted, and the
 * stream paused: the next reader resumes it). Rejects when the line is too long, the stream ends
 * first (EndedBeforeFirstLineError), or nothing comes within `timeoutMs`.
 */
export function readFirstLine(stream: Readable, maxBytes: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (error: Error | null, line?: string): void => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
      if (error) reject(error);
      else resolve(line ?? "");
    };
    const onData = (chunk: Buffer): void => {
      const newline = chunk.indexOf(0x0a);
      if (newline < 0) {
        chunks.push(chunk);
        length += chunk.length;
        if (length > maxBytes) finish(new Error(`first line longer than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk.subarray(0, newline));
      stream.pause();
      const rest = chunk.subarray(newline + 1);
      if (rest.length > 0) stream.unshift(rest);
      finish(null, Buffer.concat(chunks).toString("utf8"));
    };
    const onEnd = (): void => finish(new EndedBeforeFirstLineError(length));
    const onError = (error: Error): void => finish(error);
    const timer = setTimeout(() => finish(new Error(`no first line within ${timeoutMs} ms`)), timeoutMs);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", onEnd);
    stream.once("error", onError);
  });
}

/** Calls `onLine` for each complete line; `onOverflow` once if a line exceeds `maxBytes`. */
export function splitLines(
  stream: Readable,
  maxBytes: number,
  onLine: (line: string) => void,
  onOverflow: () => void,
): void {
  let pending: Buffer[] = [];
  let length = 0;
  let overflowed = false;
  stream.on("data", (chunk: Buffer) => {
    if (overflowed) return;
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(0x0a, start)) >= 0) {
      pending.push(chunk.subarray(start, newline));
      const line = Buffer.concat(pending).toString("utf8");
      pending = [];
      length = 0;
      start = newline + 1;
      if (line.length > 0) onLine(line);
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      length += chunk.length - start;
      if (length > maxBytes) {
        overflowed = true;
        pending = [];
        onOverflow();
      }
    }
  });
}

/** Calls `emit` with each non-empty line of a process's log stream (trimmed); a line without end stays bounded. */
export function forwardLines(stream: Readable, emit: (line: string) => void): void {
  let pending = "";
  stream.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trimEnd();
      pending = pending.slice(newline + 1);
      if (line) emit(line);
    }
    if (pending.length > 4096) pending = pending.slice(-4096); // a line without end stays bounded
  });
}
