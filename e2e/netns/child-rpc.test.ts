// child-rpc.ts with a real child process (child-rpc-fixture.ts): requests and replies, errors as
// lines, events kept and streamed, and failures that say what the child said on stderr.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { ChildError, ChildRpc } from "./child-rpc.js";
import type { FixtureCommands } from "./child-rpc-fixture-protocol.js";
import { spawnManaged } from "./process.js";

const FIXTURE = fileURLToPath(new URL("./child-rpc-fixture.ts", import.meta.url));
type Tick = { tick?: number; ready?: boolean };

function startFixture(t: { after(fn: () => Promise<unknown>): void }): ChildRpc<FixtureCommands, Tick> {
  const child = new ChildRpc<FixtureCommands, Tick>(
    spawnManaged(process.execPath, ["--import", "tsx", FIXTURE]),
    "the fixture",
  );
  t.after(() => child.stop());
  return child;
}

test("requests are answered by id, whatever order they finish in", async (t) => {
  const child = startFixture(t);
  await child.waitFor("ready", (event) => event.ready);
  const slow = child.request("later", { ms: 300, value: "slow" });
  const fast = child.request("later", { ms: 0, value: "fast" });
  assert.equal(await fast, "fast");
  assert.equal(await slow, "slow");
  assert.equal(await child.request("add", { a: 2, b: 3 }), 5);
});

test("a handler's error comes back as a ChildError with its code, and the child keeps serving", async (t) => {
  const child = startFixture(t);
  await assert.rejects(child.request("fail", { message: "no such device", code: "ENODEV" }), (error) => {
    assert.ok(error instanceof ChildError);
    assert.equal(error.code, "ENODEV");
    assert.match(error.message, /the fixture: "fail" failed: no such device/);
    return true;
  });
  assert.equal(await child.request("add", { a: 1, b: 1 }), 2);
});

test("events are kept for waitFor and streamed to listeners", async (t) => {
  const child = startFixture(t);
  const streamed: number[] = [];
  child.onEvent((event) => event.tick !== undefined && streamed.push(event.tick));
  await child.request("tick", { count: 3 });
  // Already here: waitFor finds an event that came before it was called.
  assert.equal(await child.waitFor("tick 2", (event) => (event.tick === 2 ? event.tick : undefined)), 2);
  assert.deepEqual(streamed, [1, 2, 3]);
});

test("a wait that times out says so, with the child's stderr", async (t) => {
  const child = startFixture(t);
  await assert.rejects(
    child.request("silent", null, 200),
    /the fixture did not answer "silent" within 200 ms/,
  );
  await assert.rejects(
    child.waitFor("tick 9", (event) => (event.tick === 9 ? true : undefined), 200),
    /the fixture: no tick 9 within 200 ms/,
  );
});

test("a child that dies fails what waits on it with its exit and stderr, not a timeout", async (t) => {
  const child = startFixture(t);
  const waiting = child.waitFor("tick 1", (event) => (event.tick === 1 ? true : undefined), 30_000);
  await assert.rejects(
    child.request("die", { code: 7 }, 30_000),
    /the fixture exited \(7\) before answering; stderr:\ndying with 7/,
  );
  await assert.rejects(
    waiting,
    /no tick 1: the fixture exited \(7\); events lately: \[\{"ready":true\}\]; stderr:\ndying with 7/,
  );
  await assert.rejects(child.request("add", { a: 1, b: 2 }), /the fixture is gone, cannot "add"/);
});

test("an unknown command is an error line, and a child that closes its input ends by itself", async (t) => {
  const child = startFixture(t);
  const unknown = child.request("nope" as "add", { a: 0, b: 0 });
  await assert.rejects(unknown, /"nope" failed: unknown command "nope"/);
  await child.request("leave", null);
  assert.deepEqual(await child.waitForExit(5_000), { code: 0, signal: null });
});
