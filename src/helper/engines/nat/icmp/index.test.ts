// Which ICMP forwarder each platform gets, and the one-time explanation of a fallback.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildIcmpEchoPacket, parseAddress } from "../../packet/index.js";
import { NatEngine } from "../engine.js";
import { createIcmpForwarder, LinuxIcmpForwarder, PingCommandForwarder } from "./index.js";
import { CapturingOutput, parseOutput, testContext } from "./testing.js";

const PREFIXES = ["198.18.5.0/24"];

test("Linux uses ICMP sockets when one opens", () => {
  const forwarder = createIcmpForwarder(testContext(PREFIXES), {
    platform: "linux",
    probe: () => "datagram",
  });
  assert.ok(forwarder instanceof LinuxIcmpForwarder);
});

test("Linux falls back to the ping command, saying why once", () => {
  const logs: string[] = [];
  const log = (message: string) => logs.push(message);
  const probe = (): never => {
    throw new Error("EACCES: cannot open an ICMP socket for IPv4 (Permission denied): ICMP echo needs ...");
  };
  for (let i = 0; i < 2; i++) {
    const forwarder = createIcmpForwarder(testContext(PREFIXES), { platform: "linux", probe, log });
    assert.ok(forwarder instanceof PingCommandForwarder);
  }
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /ping command instead of ICMP sockets: EACCES/);
});

test("macOS and Windows use the ping command without probing", () => {
  const probe = (): never => assert.fail("no ICMP sockets off Linux");
  for (const platform of ["darwin", "win32"] as const) {
    const forwarder = createIcmpForwarder(testContext(PREFIXES), { platform, probe });
    assert.ok(forwarder instanceof PingCommandForwarder);
  }
});

test("the NAT engine hands echo requests to the forwarder it was given", async () => {
  const output = new CapturingOutput();
  const engine = new NatEngine({
    output,
    policy: testContext(PREFIXES).policy,
    linkMtu: 1500,
    icmp: (context) =>
      createIcmpForwarder(context, {
        platform: "darwin",
        pingCommand: {
          run: () =>
            Promise.resolve({ stdout: "64 bytes from 198.18.5.2: icmp_seq=0 ttl=64 time=1 ms\n", code: 0 }),
        },
      }),
  });
  const request = buildIcmpEchoPacket({
    kind: "request",
    src: parseAddress("198.18.0.1"),
    dst: parseAddress("198.18.5.2"),
    identifier: 9,
    sequence: 1,
  });
  engine.handlePackets([request]);
  assert.equal(engine.flowCounts.icmp, 1);
  await output.waitFor(1, 2_000);
  const { icmp } = parseOutput(output.packets[0]!);
  assert.deepEqual([icmp.identifier, icmp.sequence], [9, 1]);
  engine.close("done");
  assert.equal(engine.flowCounts.icmp, 0);
});
