import assert from "node:assert/strict";
import { test } from "node:test";
import type { NativeBatchCallback, NativeTunDevice, NativeTunStats } from "../../native/addon-types.js";
import { LinuxTunDevice } from "./linux-tun.js";

/** Stands in for the addon so the wrapper's own logic runs without a kernel device. */
class FakeNative implements NativeTunDevice {
  readonly name = "bh0";
  onBatch: NativeBatchCallback | undefined;
  onError: ((error: Error) => void) | undefined;
  starts = 0;
  written: Uint8Array[] = [];
  closed = 0;
  start(onBatch: NativeBatchCallback, onError: (error: Error) => void): void {
    this.starts++;
    this.onBatch = onBatch;
    this.onError = onError;
  }
  pause(): void {}
  resume(): void {}
  write(packets: readonly Uint8Array[]): number {
    this.written.push(...packets);
    return packets.length;
  }
  stats(): NativeTunStats {
    return { packetsIn: 1, bytesIn: 2, packetsOut: 3, bytesOut: 4, writeDrops: 5, readErrors: 6 };
  }
  close(): void {
    this.closed++;
  }
}

test("a native batch becomes Buffer views over one allocation, delivered once", () => {
  const native = new FakeNative();
  const device = new LinuxTunDevice(native, 1500);
  const batches: Buffer[][] = [];
  device.onPackets((packets) => batches.push(packets));
  device.onPackets((packets) => batches.push(packets)); // replaces the listener, starts once
  assert.equal(native.starts, 1);

  const data = Buffer.from("aaabbbbbc");
  const lengths = new Uint32Array(256);
  lengths.set([3, 5, 1]);
  native.onBatch?.(data, lengths, 3);
  assert.equal(batches.length, 1);
  assert.deepEqual(
    batches[0]!.map((packet) => packet.toString()),
    ["aaa", "bbbbb", "c"],
  );
  assert.equal(batches[0]![1]!.buffer, data.buffer, "packets are views, not copies");
});

test("read errors go to the error listener, or are thrown without one", () => {
  const native = new FakeNative();
  const device = new LinuxTunDevice(native, 1500);
  device.onPackets(() => {});
  assert.throws(() => native.onError?.(new Error("EBADFD")), /EBADFD/);
  const errors: Error[] = [];
  device.onError((error) => errors.push(error));
  native.onError?.(new Error("EIO"));
  assert.deepEqual(
    errors.map((error) => error.message),
    ["EIO"],
  );
});

test("write, stats and close pass through; close is idempotent", () => {
  const native = new FakeNative();
  const device = new LinuxTunDevice(native, 9000);
  assert.equal(device.name, "bh0");
  assert.equal(device.mtu, 9000);
  assert.equal(device.write([]), 0);
  assert.equal(device.write([Buffer.from([0x45])]), 1);
  assert.deepEqual(device.stats(), {
    packetsIn: 1,
    bytesIn: 2,
    packetsOut: 3,
    bytesOut: 4,
    writeDrops: 5,
    readErrors: 6,
  });
  device.close();
  device.close();
  assert.equal(device.closed, true);
  device.onPackets(() => {});
  assert.equal(native.starts, 0, "a closed device does not start reading");
});
