/**
 * Valid packets with hostile values, through the real local helper (dist/helper-local.mjs) in a
 * namespace (issue 11, findings 1 and 2; e2e/exit-hostile/lab.ts draws the topology):
 *   (a) UDP to port 0 at an advertised address, to the broadcast address of an advertised LAN, and
 *       to an advertised prefix this computer has no route to: each gets its ICMP error back, the
 *       helper stays alive, and a TCP flow opened before keeps working.
 *   (b) an interface up without carrier (docker0 with no containers) inside an advertised prefix:
 *       TCP and UDP to its address and to its IPv6 subnet-router anycast address are refused, and
 *       a listener on this computer never sees them.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import {
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
} from "../src/helper/engines/packet/index.js";
import {
  ADDRESSES as A,
  buildExitHostileLab,
  HELPER,
  WITNESS_PORT,
  type ExitHostileLab,
} from "./exit-hostile/lab.js";
import { RemoteDriver, type IcmpError } from "./exit-hostile/remote.js";
import { netnsSkipReason } from "./netns/index.js";
import { whenMet } from "./netns/preconditions.js";

const ECHO_PORT = 7;

function skipReason(): string | undefined {
  return (
    netnsSkipReason({ tools: ["ip", "sysctl"] }) ??
    (existsSync(HELPER) ? undefined : "dist/ is not built: run `npm run build`")
  );
}

/** A test in the lab, removed after it, with a driver of its remote; skipped, saying why, where it cannot run. */
function testInLab(name: string, body: (lab: ExitHostileLab, remote: RemoteDriver) => Promise<void>): void {
  test(
    name,
    { timeout: 90_000 },
    whenMet(skipReason, async (t) => {
      const lab = await buildExitHostileLab();
      t.after(() => lab.cleanup());
      await body(lab, new RemoteDriver(lab.link, lab.helperDied));
    }),
  );
}

/** An ICMP destination unreachable with the code each family uses for the same meaning. */
function unreachable(error: IcmpError): number {
  assert.equal(
    error.type,
    error.version === 4 ? Icmpv4Type.DEST_UNREACHABLE : Icmpv6Type.DEST_UNREACHABLE,
    `destination unreachable about ${error.about}`,
  );
  return error.code;
}

testInLab(
  "UDP to port 0, to an advertised LAN's broadcast and to a prefix with no route: ICMP back, the helper lives, a TCP flow goes on",
  async (lab, remote) => {
    const flow4 = await remote.openTcp(A.remote4, A.server4, ECHO_PORT, 41_000);
    const flow6 = await remote.openTcp(A.remote6, A.server6, ECHO_PORT, 41_001);
    assert.equal(await flow4.echo("before\n"), "before\n");
    assert.equal(await flow6.echo("before\n"), "before\n");

    remote.udp(A.remote4, A.server4, 0);
    assert.equal(unreachable(await remote.icmpErrorAbout(A.server4)), Icmpv4UnreachableCode.PORT);
    remote.udp(A.remote6, A.server6, 0);
    assert.equal(unreachable(await remote.icmpErrorAbout(A.server6)), Icmpv6UnreachableCode.PORT);

    // This computer's LAN broadcast reaches every host on it: not a unicast destination.
    remote.udp(A.remote4, A.lanBroadcast, 9);
    assert.equal(
      unreachable(await remote.icmpErrorAbout(A.lanBroadcast)),
      Icmpv4UnreachableCode.ADMIN_PROHIBITED,
    );

    // Advertised, but this computer has no route: the connect fails with ENETUNREACH.
    remote.udp(A.remote4, A.noRoute4, 9);
    assert.equal(unreachable(await remote.icmpErrorAbout(A.noRoute4)), Icmpv4UnreachableCode.NET);
    remote.udp(A.remote6, A.noRoute6, 9);
    assert.equal(unreachable(await remote.icmpErrorAbout(A.noRoute6)), Icmpv6UnreachableCode.NO_ROUTE);

    await new Promise((resolve) => setTimeout(resolve, 300)); // a crash in a later tick shows by now
    assert.equal(lab.helper.hasExited, false, `the helper is still running; its log:\n${lab.helperLog()}`);
    assert.equal(await flow4.echo("after\n"), "after\n");
    assert.equal(await flow6.echo("after\n"), "after\n");
    assert.doesNotMatch(lab.helperLog(), /failed; dropped it and went on/, "no contained bug either");
  },
);

testInLab(
  "an interface up without carrier: its address and subnet-router anycast are refused, and this computer never sees the flows",
  async (lab, remote) => {
    // The premise: the kernel of L delivers to that address locally, carrier or not.
    await lab.local.runChecked(process.execPath, [
      "-e",
      `const s = require("node:net").connect(${WITNESS_PORT}, "${A.noCarrier4}", () => s.end());`,
    ]);
    const deadline = Date.now() + 5_000;
    while (lab.witnessed.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(lab.witnessed, [{ tcp: A.noCarrier4 }], "L itself reaches its witness there");
    lab.witnessed.length = 0;

    let port = 42_000;
    for (const [source, destination] of [
      [A.remote4, A.noCarrier4],
      [A.remote6, A.noCarrier6],
      [A.remote6, A.noCarrierAnycast],
    ] as const) {
      const v4 = source === A.remote4;
      const prohibited = v4 ? Icmpv4UnreachableCode.ADMIN_PROHIBITED : Icmpv6UnreachableCode.ADMIN_PROHIBITED;
      remote.syn(source, destination, WITNESS_PORT, port++);
      assert.equal(
        unreachable(await remote.icmpErrorAbout(destination)),
        prohibited,
        `TCP to ${destination}`,
      );
      remote.udp(source, destination, WITNESS_PORT, port++);
      assert.equal(
        unreachable(await remote.icmpErrorAbout(destination)),
        prohibited,
        `UDP to ${destination}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // what leaked would have arrived by now
    assert.deepEqual(lab.witnessed, [], "nothing reached this computer");
    assert.equal(lab.helper.hasExited, false);
  },
);
