import assert from "node:assert/strict";
import { test } from "node:test";
import { currentElevationInput, helperElevation } from "./elevation.js";

const linuxUser = { platform: "linux" as const, uid: 1000, gids: [1000, 27] };

test("macOS and Windows never elevate", () => {
  for (const platform of ["darwin", "win32"] as const) {
    const decision = helperElevation({ platform, uid: 501, gids: [20], pingGroupRange: null });
    assert.equal(decision.elevate, false);
    assert.match(decision.reason, /needs no privileges/);
  }
});

test("root never elevates", () => {
  assert.equal(helperElevation({ ...linuxUser, uid: 0, pingGroupRange: [1, 0] }).elevate, false);
});

test("Linux elevates only when ping_group_range excludes every group of the user", () => {
  // The kernel's default "1 0" is an empty range: nobody may open ICMP sockets.
  const closed = helperElevation({ ...linuxUser, pingGroupRange: [1, 0] });
  assert.equal(closed.elevate, true);
  assert.match(closed.reason, /ping_group_range = 1 0/);
  // Distributions that open it to everyone (systemd's default "0 2147483647").
  assert.equal(helperElevation({ ...linuxUser, pingGroupRange: [0, 2147483647] }).elevate, false);
  // A supplementary group is enough.
  assert.equal(helperElevation({ ...linuxUser, pingGroupRange: [27, 27] }).elevate, false);
  assert.equal(helperElevation({ ...linuxUser, pingGroupRange: [2000, 3000] }).elevate, true);
});

test("a TUN on this computer (--remote-route) elevates on every OS, except for root", () => {
  for (const platform of ["linux", "darwin", "win32"] as const) {
    const decision = helperElevation({ platform, uid: 501, gids: [20], pingGroupRange: null, tun: true });
    assert.equal(decision.elevate, true, platform);
    assert.match(decision.reason, /--remote-route needs a TUN device/);
  }
  const root = helperElevation({ ...linuxUser, uid: 0, pingGroupRange: [0, 2147483647], tun: true });
  assert.equal(root.elevate, false);
});

test("an unknown range does not elevate: the ping command still works", () => {
  assert.equal(helperElevation({ ...linuxUser, pingGroupRange: null }).elevate, false);
});

test("this computer's facts are read", () => {
  const input = currentElevationInput();
  assert.equal(input.platform, process.platform);
  if (process.platform === "linux") assert.ok(input.pingGroupRange !== null, "ping_group_range readable");
});
