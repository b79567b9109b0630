import assert from "node:assert/strict";
import { test } from "node:test";
import { AcceptingDestinations } from "./accepting-destinations.js";

const FAR = 20; // ms: a connect over a VPN

test("a far destination is answered early from its accepted connect until the TTL passes", () => {
  let now = 1_000;
  const accepting = new AcceptingDestinations(30_000, 1, 16, () => now);
  assert.equal(accepting.answerEarly("198.19.1.10", 80), false, "never seen: connect first");
  accepting.accepted("198.19.1.10", 80, FAR);
  assert.equal(accepting.answerEarly("198.19.1.10", 80), true);
  assert.equal(accepting.answerEarly("198.19.1.10", 443), false, "another port is another destination");
  now += 29_999;
  assert.equal(accepting.answerEarly("198.19.1.10", 80), true);
  now += 1;
  assert.equal(accepting.answerEarly("198.19.1.10", 80), false, "expired");
  assert.equal(accepting.size, 0, "and forgotten");
});

test("a destination that connects faster than minConnectMs is not answered early", () => {
  const accepting = new AcceptingDestinations(30_000, 1, 16, () => 0);
  accepting.accepted("198.19.1.10", 80, 0.3);
  assert.equal(accepting.answerEarly("198.19.1.10", 80), false, "next door: nothing to gain");
  accepting.accepted("198.19.1.10", 80, FAR);
  assert.equal(accepting.answerEarly("198.19.1.10", 80), true);
  accepting.accepted("198.19.1.10", 80, 0.3);
  assert.equal(accepting.answerEarly("198.19.1.10", 80), false, "it came near: connect first again");
  assert.equal(accepting.size, 0);
});

test("a failed connect forgets the destination at once; a new accept renews it", () => {
  let now = 0;
  const accepting = new AcceptingDestinations(10_000, 1, 16, () => now);
  accepting.accepted("2001:db8::10", 22, FAR);
  accepting.failed("2001:db8::10", 22);
  assert.equal(accepting.answerEarly("2001:db8::10", 22), false);
  accepting.accepted("2001:db8::10", 22, FAR);
  now = 9_000;
  accepting.accepted("2001:db8::10", 22, FAR);
  now = 15_000;
  assert.equal(accepting.answerEarly("2001:db8::10", 22), true, "renewed at 9 s: good until 19 s");
});

test("stays bounded: the least recently accepted destination goes first", () => {
  const accepting = new AcceptingDestinations(60_000, 1, 3, () => 0);
  for (const port of [1, 2, 3]) accepting.accepted("198.19.0.1", port, FAR);
  accepting.accepted("198.19.0.1", 1, FAR); // renewed: now the newest
  accepting.accepted("198.19.0.1", 4, FAR);
  assert.equal(accepting.size, 3);
  assert.equal(accepting.answerEarly("198.19.0.1", 2), false, "the oldest went");
  for (const port of [1, 3, 4]) assert.equal(accepting.answerEarly("198.19.0.1", port), true, `port ${port}`);
});

test("a TTL of 0 turns it off", () => {
  const accepting = new AcceptingDestinations(0, 0);
  accepting.accepted("198.19.0.1", 80, FAR);
  assert.equal(accepting.answerEarly("198.19.0.1", 80), false);
  assert.equal(accepting.size, 0);
});
