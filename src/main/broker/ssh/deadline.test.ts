import assert from "node:assert/strict";
import { test } from "node:test";
import { Deadline } from "./deadline.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `done()` holds, or fails after `withinMs` (a generous bound: the machine may be loaded). */
async function eventually(done: () => boolean, withinMs: number, what: string): Promise<void> {
  const until = Date.now() + withinMs;
  while (!done()) {
    assert.ok(Date.now() < until, `${what} within ${withinMs} ms`);
    await sleep(10);
  }
}

// Only contracts are asserted: never early, eventually, and paused time not counted. How late a
// timer fires depends on the machine's load, so no upper bound is tight.
test("expires after its time, not before", async () => {
  let expired = 0;
  const started = Date.now();
  let expiredAfter = 0;
  new Deadline(200, () => {
    expired++;
    expiredAfter = Date.now() - started;
  });
  await sleep(0);
  assert.equal(expired, 0, "not at once");
  await eventually(() => expired > 0, 5_000, "expired");
  // A little under 200: a timer counts from the event loop's cached clock, which may lag a few ms.
  assert.ok(expiredAfter >= 180, `expired after ${expiredAfter} ms of 200`);
  await sleep(60);
  assert.equal(expired, 1, "once");
});

test("does not count while paused, and resumes with what was left", async () => {
  let expired = 0;
  const deadline = new Deadline(1_000, () => expired++);
  await sleep(300);
  // Paused longer than the whole limit: counting the pause would expire it.
  await deadline.paused(() => sleep(1_200));
  assert.equal(expired, 0, "a slow prompt does not time out");
  const left = deadline.remainingMs;
  assert.ok(
    left > 0 && left <= 700,
    `left: ${left} ms (the 300 ms before the pause counted, the pause did not)`,
  );
  await eventually(() => expired > 0, 5_000, "expired after the pause");
  assert.equal(expired, 1);
});

test("nested pauses resume once; cancel stops it for good", async () => {
  let expired = 0;
  const deadline = new Deadline(40, () => expired++);
  await deadline.paused(() => deadline.paused(() => sleep(60)));
  deadline.cancel();
  await sleep(60);
  assert.equal(expired, 0);
});
