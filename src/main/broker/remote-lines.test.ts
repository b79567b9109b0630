// The agent's log lines, sanitised whole however the stream cuts them (moved here from
// shared/remote-text.test.ts with the stream it tests: Node streams are main's, not shared).
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, test } from "node:test";
import { sanitisedLines } from "./remote-lines.js";

const ESC = "\u001b";

describe("sanitisedLines", () => {
  test("an escape sequence split across chunks is removed; each line sanitised whole", async () => {
    const source = Readable.from([
      Buffer.from(`backhaul agent: hi${ESC}]52;c;`),
      Buffer.from(`aGk=\u0007 there\nsecond\u202e`),
      Buffer.from([0xf0, 0x9f]),
      Buffer.from([0x99, 0x82, 0x0a]),
      Buffer.from("no newline at the end"),
    ]);
    const out = await text(source.pipe(sanitisedLines()));
    assert.equal(out, "backhaul agent: hi there\nsecond\uFFFD🙂\nno newline at the end\n");
  });

  test("a line without end is bounded", async () => {
    const out = await text(Readable.from([Buffer.from("x".repeat(50_000))]).pipe(sanitisedLines(100)));
    for (const line of out.split("\n").filter(Boolean)) assert.ok(Array.from(line).length <= 101);
  });
});
