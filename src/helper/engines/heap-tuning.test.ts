import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { HEAP_TUNING_FLAGS } from "./heap-tuning.js";

// V8 takes an unknown flag with only a line on stderr: a Node.js upgrade that dropped or renamed
// it would silently bring back main's full collections. This runtime must know every flag.
test("this runtime's V8 knows every heap tuning flag", () => {
  for (const flag of HEAP_TUNING_FLAGS) {
    const run = spawnSync(
      process.execPath,
      ["-e", `require("node:v8").setFlagsFromString(${JSON.stringify(flag)}); console.log("set")`],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), "set");
    assert.equal(run.stderr, "", `${flag}: ${run.stderr}`);
  }
});

test("an unknown flag is what the check above catches", () => {
  const run = spawnSync(
    process.execPath,
    ["-e", `require("node:v8").setFlagsFromString("--no-such-heap-flag-in-any-v8")`],
    { encoding: "utf8" },
  );
  assert.match(run.stderr, /unrecognized flag/);
});
