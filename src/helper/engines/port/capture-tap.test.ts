import assert from "node:assert/strict";
import { test } from "node:test";
import type { CaptureDirection } from "../capture/pcapng-blocks.js";
import { CaptureTap, type PacketRecorder } from "./capture-tap.js";
import { RecordingPort } from "./testing.js";

class Recorder implements PacketRecorder {
  readonly seen: Array<[CaptureDirection, string]> = [];
  record(direction: CaptureDirection, packet: Uint8Array): void {
    this.seen.push([direction, Buffer.from(packet).toString()]);
  }
}

test("the tap shows a recorder both directions while on, sendWith included, and passes everything", () => {
  const inner = new RecordingPort();
  const tap = new CaptureTap(inner);
  const delivered: string[] = [];
  tap.onPackets((packets) => delivered.push(...packets.map(String)));

  tap.send(Buffer.from("before"));
  const recorder = new Recorder();
  tap.start(recorder);
  tap.send(Buffer.from("out"));
  tap.sendWith(4, (target, offset) => target.write("with", offset));
  tap.sendAll([Buffer.from("all")]);
  inner.receive([Buffer.from("in")]);
  tap.stop(recorder);
  tap.send(Buffer.from("after"));

  assert.deepEqual(inner.sent.map(String), ["before", "out", "with", "all", "after"]);
  assert.deepEqual(delivered, ["in"]);
  assert.deepEqual(recorder.seen, [
    ["outbound", "out"],
    ["outbound", "with"],
    ["outbound", "all"],
    ["inbound", "in"],
  ]);
  assert.equal(tap.recording, false);
});
