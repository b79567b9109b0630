import assert from "node:assert/strict";
import { test } from "node:test";
import type { Prompt } from "../../shared/api.js";
import { PromptBroker } from "./prompts.js";

test("a question is shown once and answered by its id", async () => {
  const shown: Prompt[] = [];
  const broker = new PromptBroker((prompt) => shown.push(prompt));
  const answer = broker.ask("host-key", "Trust it?");
  assert.equal(shown.length, 1);
  assert.equal(shown[0]!.kind, "host-key");
  broker.answer({ id: shown[0]!.id, answer: "yes" });
  assert.equal(await answer, "yes");
  assert.throws(() => broker.answer({ id: shown[0]!.id, answer: "no" }), /no longer waiting/);
});

test("an unanswered question is cancelled after the timeout", async () => {
  const broker = new PromptBroker(() => undefined, 20);
  assert.equal(await broker.ask("passphrase", "Passphrase?"), null);
  assert.equal(broker.waiting, 0);
});

test("cancelAll answers every open question with null", async () => {
  const broker = new PromptBroker(() => undefined);
  const answers = Promise.all([broker.ask("passphrase", "a"), broker.ask("host-key", "b")]);
  broker.cancelAll();
  assert.deepEqual(await answers, [null, null]);
});
