// Quoting checked against a real shell: what sh receives must be exactly what we meant.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { quoteShellArg, shellCommand } from "./shell-quote.js";

const nasty = [
  "/home/u/.cache/backhaul/agent/0.1.0-abc/backhaul-agent.cjs",
  "/home/o'brien/x",
  "with space",
  "$(touch /tmp/pwned)",
  "`id`",
  "a;b|c&d",
  "~root",
  "*",
  "FOO=bar",
  "",
  "-n",
  "new\nline",
  "'",
  "\\",
  "ünïcødé",
];

test("safe words stay readable, everything else is single-quoted", () => {
  assert.equal(quoteShellArg("/usr/bin/node"), "/usr/bin/node");
  assert.equal(quoteShellArg("sudo"), "sudo");
  assert.equal(quoteShellArg("with space"), "'with space'");
  assert.equal(quoteShellArg("o'brien"), "'o'\\''brien'");
  assert.equal(quoteShellArg(""), "''");
  assert.equal(quoteShellArg("FOO=bar"), "'FOO=bar'", "not an assignment");
  assert.equal(quoteShellArg("~root"), "'~root'", "no tilde expansion");
  assert.throws(() => quoteShellArg("a\0b"), /NUL/);
});

test("sh receives every argument unchanged", () => {
  const command = `printf '%s\\0' ${shellCommand(nasty)}`;
  const output = execFileSync("sh", ["-c", command], { encoding: "utf8" });
  assert.deepEqual(output.split("\0").slice(0, -1), nasty);
});
