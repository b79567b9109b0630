import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CommandError } from "../../engines/run-command.js";
import { LinuxInterface, execFileRunner, type CommandRunner } from "./linux-interface.js";

function recorder(): { runner: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    runner: (file, args) => {
      calls.push([file, ...args].join(" "));
      return Promise.resolve();
    },
  };
}

describe("LinuxInterface", () => {
  test("builds the ip commands for MTU, addresses, link state and routes", async () => {
    const { runner, calls } = recorder();
    const iface = new LinuxInterface("bh0", runner);
    await iface.setMtu(65520);
    await iface.addAddress("198.18.0.1/30");
    await iface.addAddress("2001:db8:1::1/64");
    await iface.up();
    await iface.addRoute("198.19.0.0/24");
    await iface.addRoute("2001:db8:2::/64", { metric: 50 });
    await iface.deleteRoute("198.19.0.0/24");
    await iface.deleteAddress("2001:db8:1::1/64");
    await iface.down();
    assert.deepEqual(calls, [
      "ip link set dev bh0 mtu 65520",
      "ip -4 address add 198.18.0.1/30 dev bh0",
      "ip -6 address add 2001:db8:1::1/64 dev bh0 nodad",
      "ip link set dev bh0 up",
      "ip -4 route add 198.19.0.0/24 dev bh0",
      "ip -6 route add 2001:db8:2::/64 dev bh0 metric 50",
      "ip -4 route del 198.19.0.0/24 dev bh0",
      "ip -6 address del 2001:db8:1::1/64 dev bh0",
      "ip link set dev bh0 down",
    ]);
  });

  test("refuses bad names, prefixes and MTUs before running anything", async () => {
    const { runner, calls } = recorder();
    assert.throws(() => new LinuxInterface("-bh0", runner), TypeError);
    assert.throws(() => new LinuxInterface("a-name-that-is-too-long", runner), TypeError);
    const iface = new LinuxInterface("bh0", runner);
    await assert.rejects(iface.addAddress("198.18.0.1/33"), TypeError);
    await assert.rejects(iface.addRoute("not-an-address/24"), TypeError);
    await assert.rejects(iface.addRoute("198.19.0.0/"), TypeError);
    await assert.rejects(iface.setMtu(70000), RangeError);
    assert.deepEqual(calls, []);
  });

  test("says which command failed and why", async () => {
    const missing = new LinuxInterface("bh0", execFileRunner, "/nonexistent/ip");
    await assert.rejects(missing.up(), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.match(error.message, /`ip link set dev bh0 up` failed: .*not found: install iproute2/);
      return true;
    });
    const failing = new LinuxInterface("bh0", execFileRunner, "false");
    await assert.rejects(failing.up(), /`ip link set dev bh0 up` failed/);
  });
});
