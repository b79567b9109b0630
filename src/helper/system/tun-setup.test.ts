import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { TunDevice, TunOpenOptions } from "./tun/index.js";
import { NothingChangedError } from "./errors.js";
import { Journal } from "./journal.js";
import { systemUndo } from "./system-undo.js";
import { fakeProc, recordingRunner, StandInTun, tempDir, type RecordingRunner } from "./testing.js";
import { openJournaledTun } from "./tun-setup.js";

let dir: string;
let remove: () => Promise<void>;
let device: StandInTun | undefined;
let runner: RecordingRunner;
let journal: Journal;
const openTuns = new Map<string, TunDevice>();

function fakeOpen(options: TunOpenOptions): Promise<TunDevice> {
  device = new StandInTun(options.name ?? "tun0", options.mtu);
  return Promise.resolve(device);
}

beforeEach(async () => {
  ({ dir, remove } = await tempDir());
  device = undefined;
  openTuns.clear();
  // `ip link show` finds the interface only while the fake device is open.
  runner = recordingRunner((command) =>
    command.startsWith("ip link show") && (device === undefined || device.closed)
      ? { fails: 'Device "bh0" does not exist.' }
      : undefined,
  );
  journal = new Journal({
    path: join(dir, "journal.json"),
    proc: fakeProc({ [process.pid]: { startTime: "1" } }),
    undo: systemUndo({ run: runner.run, openTuns }),
    log: () => {},
  });
  await journal.recoverFromPreviousRun();
});

afterEach(() => remove());

test("journals the TUN and each address before making them, and undoing closes the device", async () => {
  const addresses = ["198.18.0.1/30", "2001:db8:1::1/64"];
  const tun = await openJournaledTun(journal, {
    name: "bh0",
    mtu: 1500,
    addresses,
    run: runner.run,
    openTuns,
    open: fakeOpen,
  });
  assert.equal(openTuns.get("bh0"), tun);
  assert.deepEqual(
    journal.entries().map(({ id: _id, ...entry }) => entry),
    [
      { kind: "tun", name: "bh0" },
      { kind: "address", cidr: "198.18.0.1/30", dev: "bh0" },
      { kind: "address", cidr: "2001:db8:1::1/64", dev: "bh0" },
    ],
  );
  const report = await journal.undoAll();
  assert.deepEqual(report.failed, []);
  assert.equal(device?.closed, true);
  assert.deepEqual(runner.calls, [
    "ip link show dev bh0",
    "ip -4 address add 198.18.0.1/30 dev bh0",
    "ip -6 address add 2001:db8:1::1/64 dev bh0 nodad",
    "ip link set dev bh0 txqueuelen 4096",
    "ip link set dev bh0 up",
    "ip -6 address del 2001:db8:1::1/64 dev bh0",
    "ip -4 address del 198.18.0.1/30 dev bh0",
    "ip link show dev bh0",
  ]);
});

test("an interface that already has the name is refused, and nothing is journaled", async () => {
  device = new StandInTun("bh0", 1500);
  await assert.rejects(
    openJournaledTun(journal, {
      name: "bh0",
      mtu: 1500,
      addresses: [],
      run: runner.run,
      openTuns,
      open: fakeOpen,
    }),
    (error: unknown) =>
      error instanceof NothingChangedError &&
      /already exists on the remote: choose another/.test(error.message),
  );
  assert.deepEqual(journal.entries(), []);
  await assert.rejects(
    openJournaledTun(journal, {
      name: "bh%d",
      mtu: 1500,
      addresses: [],
      run: runner.run,
      openTuns,
      open: fakeOpen,
    }),
    /fixed name/,
  );
  await journal.undoAll();
});
