import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { systemUndo } from "./system-undo.js";
import { recordingRunner } from "./testing.js";

const GONE = { fails: 'Device "bh0" does not exist.' };

describe("systemUndo", () => {
  test("routes and addresses: deleted, or already gone", async () => {
    const runner = recordingRunner((command) => {
      if (command.includes("198.19.9.0/24")) return { fails: "RTNETLINK answers: No such process" };
      if (command.includes("198.18.0.5/30")) return { fails: "Error: ipv4: Address not found." };
      if (command.includes("2001:db8:1::9/64")) return { fails: "Error: ipv6: address not found." };
      if (command.includes("198.19.8.0/24")) return { fails: "RTNETLINK answers: Operation not permitted" };
      return undefined;
    });
    const undo = systemUndo({ run: runner.run });
    assert.deepEqual(await undo({ kind: "route", prefix: "198.19.0.0/16", dev: "bh0" }), {
      status: "undone",
    });
    assert.deepEqual(await undo({ kind: "route", prefix: "198.19.9.0/24", dev: "bh0" }), {
      status: "already-gone",
    });
    assert.deepEqual(await undo({ kind: "address", cidr: "2001:db8:1::1/64", dev: "bh0" }), {
      status: "undone",
    });
    assert.deepEqual(await undo({ kind: "address", cidr: "198.18.0.5/30", dev: "bh0" }), {
      status: "already-gone",
    });
    await assert.rejects(
      undo({ kind: "route", prefix: "198.19.8.0/24", dev: "bh0" }),
      /Operation not permitted/,
    );
    assert.deepEqual(runner.calls.slice(0, 4), [
      "ip -4 route del 198.19.0.0/16 dev bh0",
      "ip -4 route del 198.19.9.0/24 dev bh0",
      "ip -6 address del 2001:db8:1::1/64 dev bh0",
      "ip -4 address del 198.18.0.5/30 dev bh0",
    ]);
  });

  test("a TUN held by this process is closed and waited for", async () => {
    let closed = false;
    let checks = 0;
    const runner = recordingRunner(() => (closed && ++checks > 2 ? GONE : undefined));
    const undo = systemUndo({
      run: runner.run,
      openTuns: new Map([["bh0", { close: () => (closed = true) }]]),
    });
    assert.deepEqual(await undo({ kind: "tun", name: "bh0" }), { status: "undone" });
    assert.equal(closed, true);
  });

  test("a TUN of a dead agent is gone with it; an interface of that name now is someone else's", async () => {
    const gone = systemUndo({ run: recordingRunner(() => GONE).run });
    assert.deepEqual(await gone({ kind: "tun", name: "bh0" }), { status: "already-gone" });
    const present = systemUndo({ run: recordingRunner().run });
    const outcome = await present({ kind: "tun", name: "bh0" });
    assert.equal(outcome.status, "left-alone");
  });

  test("a TUN that does not go away after closing is an error", async () => {
    const undo = systemUndo({
      run: recordingRunner().run,
      openTuns: new Map([["bh0", { close: () => {} }]]),
      tunGoneTimeoutMs: 50,
    });
    await assert.rejects(undo({ kind: "tun", name: "bh0" }), /still exists 50 ms after closing it/);
  });
});
