import assert from "node:assert/strict";
import { test } from "node:test";
import { Deadline } from "./deadline.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("expires after its time", async () => {
  let expired = 0;
  new Deadline(30, () => expired++);
  await sleep(60);
  assert.equal(expired, 1);
});

test("does not count while paused, and resumes with what was left", async () => {
  let expired = 0;
  const deadline = new Deadline(80, () => expired++);
  await sleep(20);
  await deadline.paused(() => sleep(150));
  assert.equal(expired, 0, "a slow prompt does not time out");
  assert.ok(deadline.remainingMs > 20 && deadline.remainingMs <= 60, `left: ${deadline.remainingMs}`);
  await sleep(90);
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
