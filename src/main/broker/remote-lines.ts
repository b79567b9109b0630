// Log lines from the remote (the agent's stderr), sanitised one whole line at a time.
import { Transform, type TransformCallback } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { REMOTE_TEXT_LIMIT, sanitiseRemoteText } from "../../shared/remote-text.js";

/**
 * A stream of remote log lines, each sanitised whole (an escape sequence can span chunks), one
 * per "\n". A line without end is cut at `limit` code points, so memory stays bounded.
 */
export function sanitisedLines(limit = REMOTE_TEXT_LIMIT): Transform {
  // A character split between chunks is joined, not replaced.
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const maxPending = limit * 4;
  return new Transform({
    decodeStrings: true,
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      pending += decoder.write(chunk);
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        this.push(`${sanitiseRemoteText(pending.slice(0, newline), limit)}\n`);
        pending = pending.slice(newline + 1);
      }
      if (pending.length > maxPending) {
        this.push(`${sanitiseRemoteText(pending, limit)}\n`);
        pending = "";
      }
      done();
    },
    flush(done: TransformCallback): void {
      pending += decoder.end();
      if (pending !== "") this.push(`${sanitiseRemoteText(pending, limit)}\n`);
      done();
    },
  });
}
