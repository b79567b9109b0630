/**
 * The local helper during a user's disconnect, with the real bundled helper (dist/helper-local.mjs):
 * a terminal's Ctrl+C reaches the helper too (it is in main's process group), yet the helper stays
 * until main, having closed the links, asks it to stop; and a helper that a shutdown's signal
 * stops anyway is not started again. Needs no root and no namespace.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { attachHelperControl } from "../src/main/broker/helper/helper-client.js";
import { withSupervisedHelper } from "./local-helper/built.js";

/** Long enough for a signal to be handled and a restart (first after 250 ms) to begin. */
const SETTLE_MS = 1_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  "a supervised helper leaves SIGINT to main and stops when main asks",
  { timeout: 30_000 },
  withSupervisedHelper(async ({ supervisor, endpoint, pid, logs }) => {
    const exits: unknown[] = [];
    supervisor.on("exited", (info) => exits.push(info));
    process.kill(pid, "SIGINT");
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    assert.ok(alive(pid), `SIGINT stopped the supervised helper; its log:\n${logs.join("\n")}`);
    assert.deepEqual(exits, []);
    await assert.rejects(attachHelperControl(endpoint, "no-such-link"), /no such link/, "and answers");
    await supervisor.stop();
    assert.ok(!alive(pid), "main's shutdown stops it");
  }),
);

test(
  "once a shutdown is under way, a helper that exits is not started again",
  { timeout: 30_000 },
  withSupervisedHelper(async ({ supervisor, pid, logs }) => {
    const started: unknown[] = [];
    supervisor.on("started", (next) => started.push(next));
    const exited = new Promise<{ expected: boolean }>((resolve) => supervisor.once("exited", resolve));
    supervisor.holdRestarts();
    process.kill(pid, "SIGTERM"); // as a service manager stops every process of the service
    assert.equal((await exited).expected, true, "an exit during a shutdown is expected");
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    assert.deepEqual(started, [], `nothing started; log:\n${logs.join("\n")}`);
    assert.ok(!logs.some((line) => /starting it again/.test(line)), logs.join("\n"));
    await assert.rejects(supervisor.endpoint(), /stopped/, "nor on request");
  }),
);
