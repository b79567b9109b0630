// The one command runner, run on node itself: output, a failure's exit code and stderr in the
// message, a missing program, a timeout and an abort.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommandError, runCommand } from "./run-command.js";

const node = process.execPath;

describe("runCommand", () => {
  it("resolves with stdout and stderr, passing arguments without a shell", async () => {
    const script = "process.stdout.write(process.argv[1]); process.stderr.write('note')";
    const output = await runCommand(node, ["-e", script, "a b;$c"], { timeoutMs: 10_000 });
    assert.deepEqual(output, { stdout: "a b;$c", stderr: "note" });
  });

  it("says the command, its exit code and what it printed on stderr", async () => {
    const failing = runCommand(node, ["-e", "console.error('no table'); process.exit(3)"], {
      timeoutMs: 10_000,
      name: "node",
    });
    await assert.rejects(failing, (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(
        error.message,
        "`node -e console.error('no table'); process.exit(3)` failed (exit 3): no table",
      );
      assert.deepEqual([error.reason, error.exitCode, error.stderr], ["failed", 3, "no table\n"]);
      return true;
    });
  });

  it("says a missing program is missing, with the caller's hint", async () => {
    await assert.rejects(
      runCommand("/nonexistent/ip", ["link"], {
        timeoutMs: 10_000,
        name: "ip",
        installHint: "install iproute2",
      }),
      {
        name: "CommandError",
        reason: "not-found",
        exitCode: null,
        message: "`ip link` failed: `/nonexistent/ip` was not found: install iproute2",
      },
    );
  });

  it("ends a command that does not answer in time", async () => {
    await assert.rejects(runCommand(node, ["-e", "setTimeout(() => {}, 60_000)"], { timeoutMs: 200 }), {
      name: "CommandError",
      reason: "timed-out",
      message: /failed: no answer within 200 ms$/,
    });
  });

  it("rejects an aborted command with the abort, not as a failure", async () => {
    const controller = new AbortController();
    const running = runCommand(node, ["-e", "setTimeout(() => {}, 60_000)"], {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    controller.abort();
    await assert.rejects(running, { name: "AbortError" });
  });
});
