// The agent's link pipes grown through the addon (F_SETPIPE_SZ): a real FIFO, a file, /dev/null.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadNativeAddon } from "../native/load-addon.js";
import { growPipe, LINK_PIPE_BYTES } from "./link-pipes.js";

function addonSetPipeSize(): ReturnType<typeof loadNativeAddon>["setPipeSize"] {
  try {
    return loadNativeAddon().setPipeSize;
  } catch {
    return undefined;
  }
}

const setPipeSize = addonSetPipeSize();
// Without the addon (not Linux, or not built) growPipe is null for everything: nothing to test.
const skip =
  setPipeSize === undefined
    ? "the native addon with setPipeSize is not built here (Linux: node scripts/build-native.mjs)"
    : undefined;

function fifo(t: { after: (fn: () => void) => void }): number {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-pipe-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "link");
  const made = spawnSync("mkfifo", [path]);
  assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
  // Read-write and non-blocking: the FIFO opens without a peer, and a write past its capacity
  // returns short instead of hanging the test.
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  t.after(() => closeSync(fd));
  return fd;
}

test("a pipe grows to 1 MiB and then takes a 768 KiB burst in one write", { skip }, (t) => {
  const fd = fifo(t);
  const burst = Buffer.alloc(768 * 1024, 7);
  assert.equal(growPipe(fd), LINK_PIPE_BYTES);
  assert.equal(writeSync(fd, burst), burst.length, "the whole burst fits the grown pipe");
  // Asking for less never shrinks it.
  assert.equal(growPipe(fd, 4096), LINK_PIPE_BYTES);
});

test("a pipe left at the default takes only 64 KiB of the same burst (what the growth changes)", (t) => {
  const fd = fifo(t);
  assert.ok(writeSync(fd, Buffer.alloc(768 * 1024, 7)) <= 64 * 1024);
});

test("a file and a character device are not pipes: null, nothing thrown", { skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-pipe-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = openSync(join(dir, "file"), "w");
  t.after(() => closeSync(file));
  assert.equal(growPipe(file), null);
  const device = openSync("/dev/null", "r");
  t.after(() => closeSync(device));
  assert.equal(growPipe(device), null);
  assert.equal(growPipe(-1), null, "a bad fd is refused by the addon and reported as null");
});

test(
  "setPipeSize takes only whole numbers in range: fd + 2^32 is not fd, 2^32 + 4096 bytes is not 4096",
  { skip },
  (t) => {
    assert.ok(setPipeSize);
    const fd = fifo(t);
    const refused = /needs a file descriptor and a positive size/;
    // N-API's int32 conversion wraps modulo 2^32: these used to grow `fd` to 1 MiB.
    assert.throws(() => setPipeSize(fd + 2 ** 32, LINK_PIPE_BYTES), refused);
    assert.throws(() => setPipeSize(fd, 2 ** 32 + LINK_PIPE_BYTES), refused);
    assert.throws(() => setPipeSize(fd + 0.5, LINK_PIPE_BYTES), refused);
    assert.throws(() => setPipeSize(fd, 1.5), refused);
    for (const bad of [-1, NaN, Infinity, -Infinity, 2 ** 31, 1e300, 0])
      assert.throws(() => setPipeSize(fd, bad), refused, `bytes ${bad}`);
    for (const bad of [-1, NaN, Infinity, 2 ** 31, -(2 ** 32)])
      assert.throws(() => setPipeSize(bad, LINK_PIPE_BYTES), refused, `fd ${bad}`);
    assert.throws(
      () => (setPipeSize as (...args: unknown[]) => unknown)(String(fd), LINK_PIPE_BYTES),
      refused,
    );
    assert.throws(() => (setPipeSize as (...args: unknown[]) => unknown)(fd), refused);
    assert.equal(growPipe(fd, 4096), 64 * 1024, "the pipe was left as it was");
    assert.equal(setPipeSize(2 ** 31 - 1, 4096), null, "a whole fd nobody holds: not a pipe");
  },
);
