// The forwarder's deadline queue: items come due in deadline order, each once; a deadline that
// moves earlier is honoured, one that moves later is left to the caller to queue again; stale
// entries stay bounded however many flows come and go.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeadlineQueue } from "./deadline-queue.js";

test("items come due in deadline order, only once due, each once", () => {
  const queue = new DeadlineQueue<string>();
  for (const [item, at] of [
    ["c", 30],
    ["a", 10],
    ["e", 50],
    ["b", 20],
    ["d", 40],
  ] as const)
    queue.schedule(item, at);
  assert.equal(queue.earliest, 10);
  assert.deepEqual(queue.takeDue(9), []);
  assert.deepEqual(queue.takeDue(25), ["a", "b"]);
  assert.deepEqual(queue.takeDue(25), []);
  assert.equal(queue.earliest, 30);
  assert.deepEqual(queue.takeDue(1_000), ["c", "d", "e"]);
  assert.equal(queue.size, 0);
  assert.equal(queue.earliest, 0);
});

test("an earlier deadline replaces the entry; a later one keeps the earlier entry", () => {
  const queue = new DeadlineQueue<string>();
  queue.schedule("rto", 100);
  queue.schedule("rto", 40); // a retransmission armed sooner
  assert.equal(queue.earliest, 40);
  assert.deepEqual(queue.takeDue(40), ["rto"]);
  // The entry at 100 is stale: the item is no longer queued, so it does not come due again.
  assert.deepEqual(queue.takeDue(200), []);

  queue.schedule("idle", 50);
  queue.schedule("idle", 500); // pushed back by an ACK: the entry at 50 stays
  assert.equal(queue.earliest, 50);
  assert.deepEqual(queue.takeDue(60), ["idle"], "due at its first time; the caller queues it again");
  assert.equal(queue.size, 0);
});

test("a deleted item never comes due", () => {
  const queue = new DeadlineQueue<string>();
  queue.schedule("closed", 10);
  queue.schedule("open", 20);
  queue.delete("closed");
  assert.equal(queue.size, 1);
  assert.deepEqual(queue.takeDue(100), ["open"]);
});

test("stale entries stay bounded while flows come and go (no growth per flow)", () => {
  const queue = new DeadlineQueue<number>();
  // 100 flows held open with idle limits far away; 50,000 short flows each queued for their
  // idle limit, moved earlier twice (retransmissions), then closed before any came due.
  for (let held = 0; held < 100; held++) queue.schedule(-held - 1, 3_600_000 + held);
  for (let flow = 0; flow < 50_000; flow++) {
    queue.schedule(flow, 3_600_000 + flow);
    queue.schedule(flow, 1_000 + flow);
    queue.schedule(flow, 500 + flow);
    queue.delete(flow);
  }
  assert.equal(queue.size, 100);
  assert.ok(queue.entries <= 2 * queue.size + 64 + 1, `${queue.entries} entries for ${queue.size} items`);
  const due = queue.takeDue(Number.MAX_SAFE_INTEGER);
  assert.deepEqual(
    due,
    Array.from({ length: 100 }, (_, held) => -held - 1),
  );
});

test("random deadlines: each item comes due at the first wakeup past its deadline", () => {
  const queue = new DeadlineQueue<number>();
  const at = new Map<number, number>();
  for (let item = 0; item < 2_000; item++) {
    const deadline = Math.floor(Math.random() * 10_000);
    at.set(item, deadline);
    queue.schedule(item, deadline);
  }
  let previous = -1;
  let count = 0;
  for (let until = 0; until <= 10_100; until += 97) {
    const due = queue.takeDue(until);
    const deadlines = due.map((item) => at.get(item)!);
    assert.deepEqual(
      deadlines,
      [...deadlines].sort((x, y) => x - y),
      "in deadline order",
    );
    for (const deadline of deadlines) assert.ok(deadline > previous && deadline <= until);
    count += due.length;
    previous = until;
  }
  assert.equal(count, 2_000);
});
