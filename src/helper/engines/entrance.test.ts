import assert from "node:assert/strict";
import { test } from "node:test";
import { pumpTunAndLink } from "./entrance.js";
import { RecordingPort } from "./port/testing.js";

test("the entrance pumps batches both ways and pauses the TUN while the link is full", () => {
  const tun = new RecordingPort();
  const link = new RecordingPort();
  const stop = pumpTunAndLink(tun, link);
  tun.receive([Buffer.from("up")]);
  link.receive([Buffer.from("down")]);
  assert.deepEqual(link.sent, [Buffer.from("up")]);
  assert.deepEqual(tun.sent, [Buffer.from("down")]);

  link.writable = false;
  tun.receive([Buffer.from("more")]);
  assert.equal(tun.paused, true);
  link.drain();
  assert.equal(tun.paused, false);

  stop();
  link.receive([Buffer.from("after")]);
  assert.equal(tun.sent.length, 1);
});
