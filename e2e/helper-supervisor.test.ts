/**
 * The local helper's supervisor with the real bundled helper (dist/helper-local.mjs): owner-only
 * control directory, token never on the command line, restart after a crash, clean stop, and the
 * fall-back when elevation cannot happen. Needs no root and no namespace: nothing leaves the
 * Unix socket.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { HelperSupervisor } from "../src/main/broker/helper/supervisor.js";
import { attachHelperControl, HelperRefusedError } from "../src/main/broker/helper/helper-client.js";
import { BUILT_HELPER, helperNotBuilt, withSupervisedHelper } from "./local-helper/built.js";
import { whenMet } from "./netns/preconditions.js";

test(
  "the supervisor starts the helper privately, restarts it when it dies, and stops it",
  { timeout: 60_000 },
  withSupervisedHelper(async ({ supervisor, endpoint, pid, logs }) => {
    const dir = join(endpoint.socketPath, "..");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, "token")).mode & 0o777, 0o600);
    assert.equal(statSync(endpoint.socketPath).mode & 0o777, 0o600);
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    assert.ok(!argv.includes(endpoint.token), "the token is not in the helper's argv");
    assert.ok(
      !readFileSync(`/proc/${pid}/environ`, "utf8").includes(endpoint.token),
      "nor in its environment",
    );
    await assert.rejects(
      attachHelperControl({ ...endpoint, token: "0".repeat(64) }, "x"),
      HelperRefusedError,
    );

    const restarted = new Promise<number | null>((resolve) => supervisor.once("started", resolve));
    process.kill(pid, "SIGKILL");
    const next = await restarted;
    assert.ok(next && next !== pid, "a new helper process");
    assert.ok(
      logs.some((line) => /local helper exited/.test(line)),
      logs.join("\n"),
    );
    const again = await supervisor.endpoint();
    assert.equal(again.token, endpoint.token);
    await assert.rejects(attachHelperControl(again, "no-such-link"), /no such link/);

    await supervisor.stop();
    assert.throws(() => process.kill(next, 0), /ESRCH/, "the helper is gone");
    assert.ok(!existsSync(dir), "the control directory is removed");
  }),
);

const noGraphicalSudo = ["/usr/bin/pkexec", "/usr/bin/kdesudo"].every((path) => !existsSync(path));
test(
  "when elevation is needed but cannot happen, the helper runs unprivileged and says what that costs",
  { timeout: 60_000 },
  whenMet(
    () =>
      helperNotBuilt() ??
      (noGraphicalSudo ? undefined : "pkexec or kdesudo is installed: elevating would prompt"),
    async () => {
      const logs: string[] = [];
      const supervisor = new HelperSupervisor({
        helperPath: BUILT_HELPER,
        log: (line) => logs.push(line),
        decide: () => ({ elevate: true, reason: "test: pretend ICMP needs root" }),
      });
      try {
        await supervisor.endpoint();
        assert.ok(supervisor.pid, "an unprivileged child runs");
        assert.ok(
          logs.some((line) => /starting the helper elevated: test: pretend/.test(line)),
          logs.join("\n"),
        );
        assert.ok(
          logs.some((line) => /could not start the helper elevated .*ping command/.test(line)),
          logs.join("\n"),
        );
      } finally {
        await supervisor.stop();
      }
    },
  ),
);
