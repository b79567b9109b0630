// The real command runner, exercised with node itself: output, failures and missing programs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execFileRunner } from "./exec.js";

describe("execFileRunner", () => {
  it("resolves with stdout, passing arguments without a shell", async () => {
    const output = await execFileRunner(process.execPath, [
      "-e",
      "process.stdout.write(process.argv[1])",
      "a b;$c",
    ]);
    assert.equal(output, "a b;$c");
  });

  it("reports a failing command with what it printed", async () => {
    await assert.rejects(
      execFileRunner(process.execPath, ["-e", "console.error('no table'); process.exit(2)"]),
      {
        name: "RouteTableError",
        code: "command-failed",
        message: /failed \(exit 2\): no table$/,
      },
    );
  });

  it("reports a missing program as not found", async () => {
    await assert.rejects(execFileRunner("backhaul-no-such-program", []), {
      name: "RouteTableError",
      code: "command-not-found",
    });
  });
});
