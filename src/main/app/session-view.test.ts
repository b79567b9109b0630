import assert from "node:assert/strict";
import { test } from "node:test";
import { IDLE_SESSION } from "../../shared/api.js";
import { viewOf } from "./session-view.js";

const previous = {
  ...IDLE_SESSION,
  target: { id: "devbox", label: "devbox" },
  advertised: ["10.0.0.0/8"],
  entrance: "proxy" as const,
};

test("each broker state maps to the window's view, keeping target, prefixes and entrance", () => {
  assert.deepEqual(viewOf({ state: "connecting", step: "upload", attempt: 2 }, previous), {
    ...previous,
    phase: "connecting",
    step: "upload",
    attempt: 2,
  });
  const connected = viewOf({ state: "connected", since: 1_234 }, previous);
  assert.equal(connected.phase, "connected");
  assert.equal(connected.connectedSince, 1_234);
  assert.equal(connected.step, null);
  assert.deepEqual(connected.advertised, ["10.0.0.0/8"]);
  assert.equal(connected.entrance, "proxy", "the entrance the agent started is kept");
  const retrying = viewOf(
    { state: "reconnecting", attempt: 3, retryInMs: 2_000, reason: "link lost" },
    previous,
    10_000,
  );
  assert.equal(retrying.retryAt, 12_000);
  assert.equal(retrying.message, "link lost");
  assert.equal(retrying.attempt, 3);
  assert.equal(viewOf({ state: "error", message: "wrong key" }, connected).connectedSince, null);
  assert.deepEqual(viewOf({ state: "disconnected", reason: "by you" }, connected).target, previous.target);
});
