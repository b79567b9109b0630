import type { Readable } from "node:stream";

/**
 * Calls `onValue` with each line of `stream` parsed as JSON, and `onOther` with lines that are
 * not JSON. The CLI with --json reports this way, and child-rpc.ts reads the e2e children with it.
 */
export function readJsonLines(
  stream: Readable | null | undefined,
  onValue: (value: Record<string, unknown>) => void,
  onOther: (line: string) => void = () => undefined,
): void {
  let buffer = "";
  stream?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        onOther(line);
        continue;
      }
      if (typeof value === "object" && value !== null) onValue(value as Record<string, unknown>);
      else onOther(line);
    }
  });
}
