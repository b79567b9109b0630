import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { currentIdentity, identityOf, isRunning, parseProcStat } from "./process-identity.js";
import { procStatLine } from "./testing.js";

test("parses state and start time even when the command name holds spaces and parentheses", () => {
  const line = procStatLine(77, { startTime: "123456", state: "R", comm: "a) (b c" });
  assert.deepEqual(parseProcStat(line), { state: "R", startTime: "123456" });
  assert.equal(parseProcStat("garbage"), null);
  assert.equal(parseProcStat("1 (x) S 0"), null);
});

test("this process is running; a child that exited is not, even if its PID were reused", async () => {
  const me = await currentIdentity();
  assert.equal(me.pid, process.pid);
  assert.match(me.startTime, /^\d+$/);
  assert.match(me.bootId, /^[0-9a-f-]{36}$/);
  assert.equal(await isRunning(me), true);
  assert.equal(await isRunning({ ...me, startTime: String(BigInt(me.startTime) + 1n) }), false, "PID reused");
  assert.equal(
    await isRunning({ ...me, bootId: "00000000-0000-0000-0000-000000000000" }),
    false,
    "other boot",
  );

  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { stdio: "ignore" });
  const identity = await identityOf(child.pid!);
  assert.equal(await isRunning(identity), true);
  child.kill("SIGKILL");
  await once(child, "exit");
  assert.equal(await isRunning(identity), false);
});
