import assert from "node:assert/strict";
import { test } from "node:test";
import { SudoRefusedError } from "./errors.js";
import { SudoPassword } from "./sudo-password.js";

test("a declined question is a refusal of kind no-password (auto then takes the proxy entrance)", async () => {
  const declined = new SudoPassword(() => Promise.resolve(null));
  await assert.rejects(
    declined.get("dev", "devbox"),
    (error: unknown) => error instanceof SudoRefusedError && error.why === "no-password",
  );
});

test("an answer is held for reconnects and zeroed by wipe", async () => {
  let asked = 0;
  const answer = Buffer.from("secret");
  const held = new SudoPassword(() => {
    asked++;
    return Promise.resolve(answer);
  });
  assert.equal(await held.get("dev", "devbox"), answer);
  await held.get("dev", "devbox");
  assert.equal(asked, 1);
  held.wipe();
  assert.deepEqual([...answer], [0, 0, 0, 0, 0, 0]);
});
