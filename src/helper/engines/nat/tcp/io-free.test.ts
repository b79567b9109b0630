// The Bar of issue 13: the TCP connection does no I/O and reads no clock. Walks the imports of
// connection.ts (every module it reaches in this repository) and fails on any way to reach the
// network, a timer, the wall clock or randomness: those belong to the flow and the forwarder.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const FORBIDDEN: { pattern: RegExp; what: string }[] = [
  {
    pattern: /["']node:(net|dgram|tls|http|https|timers|perf_hooks|child_process|fs)["']/,
    what: "an I/O or timer module",
  },
  { pattern: /\bset(Timeout|Interval|Immediate)\s*\(/, what: "a timer" },
  { pattern: /\bqueueMicrotask\s*\(|process\.nextTick/, what: "deferred work" },
  { pattern: /\bDate\.now\s*\(|new Date\s*\(/, what: "the wall clock" },
  { pattern: /\bperformance\.now\s*\(|process\.hrtime/, what: "a clock" },
  { pattern: /\bMath\.random\s*\(/, what: "randomness (the ISS is passed in)" },
];

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+["']([^"']+)["']/g;

/** Every repository module reachable from `entry`, comments stripped. */
function reachable(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const source = readFileSync(file, "utf8");
    seen.set(file, source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1"));
    for (const match of source.matchAll(IMPORT)) {
      const specifier = match[1]!;
      if (specifier.startsWith(".")) queue.push(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      else if (specifier.startsWith("node:")) seen.set(`${file} -> ${specifier}`, `"${specifier}"`);
    }
  }
  return seen;
}

const here = dirname(fileURLToPath(import.meta.url));

test("the connection module and everything it imports use no I/O, timers, clock or randomness", () => {
  const modules = reachable(resolve(here, "connection.ts"));
  for (const name of ["send.ts", "receive.ts", "timers.ts", "teardown.ts", "state.ts", "handshake.ts"]) {
    assert.ok(modules.has(resolve(here, name)), `connection.ts reaches ${name}`);
  }
  const found: string[] = [];
  for (const [file, source] of modules) {
    for (const { pattern, what } of FORBIDDEN) if (pattern.test(source)) found.push(`${file}: ${what}`);
  }
  assert.deepEqual(found, []);
});

test("the check itself catches each forbidden use", () => {
  const samples = [
    'import { connect } from "node:net";',
    "setTimeout(() => 0, 1);",
    "const t = Date.now();",
    "const t = performance.now();",
    "const iss = Math.random();",
  ];
  for (const sample of samples) {
    assert.ok(
      FORBIDDEN.some(({ pattern }) => pattern.test(sample)),
      `not caught: ${sample}`,
    );
  }
});
