// The words are checked against a real sh: what it would run is what we spawn.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { CommandLineError, parseCommandLine } from "./command-line.js";

/** The words sh makes of `text` (it runs `printf '%s\0' TEXT`). */
function shWords(text: string): string[] {
  const out = execFileSync("sh", ["-c", `printf '%s\\0' ${text}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

const accepted = [
  "kubectl exec -i devpod -c dev -- sh",
  "docker exec -i devbox sh",
  "ip netns exec r-1 env HOME=/tmp/h sh",
  `sh -c 'echo nope >&2; exit 3'`,
  `a  'b c'  "d e"  f\\ g`,
  `'it'\\''s' "say \\"hi\\"" "back\\\\slash" "keep \\n as is"`,
  `"" '' x""y`,
  `'$HOME' "\\$HOME" \\$HOME '\`id\`' "\\\`id\\\`"`,
  `'a|b' "c;d" e\\&f \\<g\\> '(h)'`,
  "tab\there\tand\tmore",
  "join\\\nlines",
  "'multi\nline' \"also\nthis\"",
  "ünïcödé 'ø x' \"✓\"",
  "  leading and trailing   ",
];

for (const text of accepted) {
  test(`parses like sh: ${JSON.stringify(text)}`, () => {
    assert.deepEqual(parseCommandLine(text), shWords(text));
  });
}

const refused: [string, RegExp][] = [
  ["sh -c 'echo hi", /unbalanced single quote at character 7/],
  [`sh -c "echo hi`, /unbalanced double quote at character 7/],
  [`a "b\\"`, /unbalanced double quote/],
  ["ends with \\", /lone backslash/],
  ["", /empty/],
  ["   \t\n ", /empty/],
  ["docker exec -i box sh | tee log", /`\|` is a shell operator.*without a shell/],
  ["a; rm -rf /", /`;` is a shell operator/],
  ["a && b", /`&` is a shell operator/],
  ["a > /tmp/x", /`>` is a shell operator/],
  ["kubectl exec -i $POD sh", /`\$` would be expanded/],
  ['a "$(id)"', /`\$` inside double quotes/],
  ["a `id`", /`\x60` would be expanded/],
  ["a\0b", /NUL/],
];

for (const [text, message] of refused) {
  test(`refuses ${JSON.stringify(text)}`, () => {
    assert.throws(
      () => parseCommandLine(text),
      (error: unknown) => {
        assert.ok(error instanceof CommandLineError);
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test("a newline outside quotes separates words; globs and ~ are passed as typed, not expanded", () => {
  assert.deepEqual(parseCommandLine("a\nb *.txt ~ ~root/x a=b"), ["a", "b", "*.txt", "~", "~root/x", "a=b"]);
});
