import assert from "node:assert/strict";
import { test } from "node:test";
import { AcceptingDestinations } from "./accepting-destinations.js";

test("a destination qualifies from its accepted connect until the TTL passes", () => {
  let now = 1_000;
  const accepting = new AcceptingDestinations(30_000, 16, () => now);
  assert.equal(accepting.has("198.19.1.10", 80), false, "never seen: connect first");
  accepting.accepted("198.19.1.10", 80);
  assert.equal(accepting.has("198.19.1.10", 80), true);
  assert.equal(accepting.has("198.19.1.10", 443), false, "another port is another destination");
  now += 29_999;
  assert.equal(accepting.has("198.19.1.10", 80), true);
  now += 1;
  assert.equal(accepting.has("198.19.1.10", 80), false, "expired");
  assert.equal(accepting.size, 0, "and forgotten");
});

test("a failed connect forgets the destination at once; a new accept renews it", () => {
  let now = 0;
  const accepting = new AcceptingDestinations(10_000, 16, () => now);
  accepting.accepted("2001:db8::10", 22);
  accepting.failed("2001:db8::10", 22);
  assert.equal(accepting.has("2001:db8::10", 22), false);
  accepting.accepted("2001:db8::10", 22);
  now = 9_000;
  accepting.accepted("2001:db8::10", 22);
  now = 15_000;
  assert.equal(accepting.has("2001:db8::10", 22), true, "renewed at 9 s: good until 19 s");
});

test("stays bounded: the least recently accepted destination goes first", () => {
  const accepting = new AcceptingDestinations(60_000, 3, () => 0);
  for (const port of [1, 2, 3]) accepting.accepted("198.19.0.1", port);
  accepting.accepted("198.19.0.1", 1); // renewed: now the newest
  accepting.accepted("198.19.0.1", 4);
  assert.equal(accepting.size, 3);
  assert.equal(accepting.has("198.19.0.1", 2), false, "the oldest went");
  for (const port of [1, 3, 4]) assert.equal(accepting.has("198.19.0.1", port), true, `port ${port}`);
});

test("a TTL of 0 turns it off", () => {
  const accepting = new AcceptingDestinations(0);
  accepting.accepted("198.19.0.1", 80);
  assert.equal(accepting.has("198.19.0.1", 80), false);
  assert.equal(accepting.size, 0);
});
