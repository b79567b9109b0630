// The handshake's two halves, as the page computes them from the URL `backhaul ui` prints.
import assert from "node:assert/strict";
import { test } from "node:test";
import { offeredProtocols, tokenInFragment } from "./bridge-protocol.js";

test("the page takes the token from the fragment and offers it beside the bridge's subprotocol", () => {
  assert.equal(tokenInFragment("#token=abc_DEF-123"), "abc_DEF-123");
  assert.equal(tokenInFragment("token=abc"), "abc");
  assert.equal(tokenInFragment("#other=1"), null);
  assert.equal(tokenInFragment(""), null);
  assert.deepEqual(offeredProtocols("abc"), ["backhaul.v1", "backhaul.token.abc"]);
});
