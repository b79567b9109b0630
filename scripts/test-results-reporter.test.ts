// The reporter behind npm test's tally: every skip, of a test or of a whole suite, comes out with
// its file, full name and reason (Node's own summary counts a skipped describe nowhere).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const REPORTER = fileURLToPath(new URL("./test-results-reporter.mjs", import.meta.url));

const FIXTURE = `
import { describe, test } from "node:test";
describe("whole suite", { skip: "no namespaces here" }, () => { test("never runs", () => {}); });
describe("outer", () => {
  test("passes", () => {});
  test("skips itself", (t) => { t.skip("said why"); });
  describe("inner", { skip: "nested reason" }, () => { test("never runs either", () => {}); });
  test("fails", () => { throw new Error("boom"); });
  test("later", { todo: "not yet" }, () => {});
});
`;

interface Result {
  file: string;
  path: string[];
  suite: boolean;
  outcome: string;
  reason?: string;
}

test("every result is a line with its file, full name, kind and outcome; skipped suites included", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-reporter-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fixture = join(dir, "fixture.test.mjs");
  const out = join(dir, "results.jsonl");
  writeFileSync(fixture, FIXTURE);
  const run = spawnSync(
    process.execPath,
    ["--test", `--test-reporter=${REPORTER}`, `--test-reporter-destination=${out}`, fixture],
    // Without the variable that marks this process as a test runner's child, which would make
    // the inner run report to this one instead of through the reporter.
    { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  assert.equal(run.status, 1, `the fixture has one failing test: ${run.stderr}`);
  const results = readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Result);
  assert.ok(results.every((result) => result.file === fixture));
  assert.deepEqual(
    results.map(({ path, suite, outcome, reason }) => [path.join(" > "), suite, outcome, reason ?? null]),
    [
      ["whole suite", true, "skip", "no namespaces here"],
      ["outer > passes", false, "pass", null],
      ["outer > skips itself", false, "skip", "said why"],
      ["outer > inner", true, "skip", "nested reason"],
      ["outer > fails", false, "fail", null],
      ["outer > later", false, "todo", "not yet"],
      ["outer", true, "fail", null],
    ],
  );
});
