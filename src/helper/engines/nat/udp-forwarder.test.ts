// The UDP forwarder against datagrams a hostile remote can send: a reserved port, destinations
// whose connect() fails. Real dgram sockets; nothing leaves this machine (port 0 is refused before
// any socket, and a broadcast connect fails in the kernel without SO_BROADCAST).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildIcmpEchoPacket,
  buildUdpPacket,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  Icmpv6UnreachableCode,
  parseAddress,
  parseIp,
  parseTransport,
  UdpView,
  type IcmpView,
} from "../packet/index.js";
import { CapturingOutput } from "./capturing-output.js";
import { EgressPolicy, type EgressDecision } from "./egress-policy.js";
import { NatEngine } from "./engine.js";
import { FlowTable } from "./flow-table.js";
import { newNatCounters } from "./nat-counters.js";
import { socketErrorRefusal } from "./refusal.js";
import { DEFAULT_UDP_LIMITS, UdpForwarder } from "./udp-forwarder.js";

const REMOTE = parseAddress("198.18.0.1");

function icmpOf(packet: Buffer): IcmpView | undefined {
  const transport = parseTransport(parseIp(packet));
  return transport.kind === "icmp" ? transport.icmp : undefined;
}

/**
 * A policy that lets everything through, named for what it is: the forwarder's own handling of
 * a failed connect is under test, not the egress policy (which refuses broadcast first).
 */
const allowEverything = { check: (): EgressDecision => ({ allowed: true }) };

function forwarder() {
  const output = new CapturingOutput();
  const table = new FlowTable();
  const counters = newNatCounters();
  const internalErrors: unknown[] = [];
  const udp = new UdpForwarder({
    output,
    table,
    policy: allowEverything,
    counters,
    limits: DEFAULT_UDP_LIMITS,
    internalError: (error) => internalErrors.push(error),
  });
  return { udp, output, table, counters, internalErrors };
}

function sendUdp(udp: UdpForwarder, dst: string, dstPort: number, src = REMOTE): void {
  const packet = buildUdpPacket({
    src,
    dst: parseAddress(dst),
    srcPort: 40000,
    dstPort,
    payload: Buffer.from("x"),
  });
  const ip = parseIp(packet);
  udp.handle(ip, UdpView.parse(ip.payload));
}

test("UDP to port 0 is answered port unreachable, with no socket and no throw", () => {
  const output = new CapturingOutput();
  const policy = new EgressPolicy({ prefixes: ["198.19.0.0/16", "2001:db8:19::/64"], allowLocal: false });
  const engine = new NatEngine({ output, policy, linkMtu: 1500 });
  for (const [src, dst] of [
    ["198.18.0.1", "198.19.0.10"],
    ["2001:db8:1::1", "2001:db8:19::10"],
  ] as const) {
    engine.handlePacket(
      buildUdpPacket({
        src: parseAddress(src),
        dst: parseAddress(dst),
        srcPort: 40000,
        dstPort: 0,
        payload: Buffer.from("x"),
      }),
    );
  }
  const [v4, v6] = output.packets.map(icmpOf);
  assert.equal(v4?.type, Icmpv4Type.DEST_UNREACHABLE);
  assert.equal(v4?.code, Icmpv4UnreachableCode.PORT);
  assert.equal(v6?.type, Icmpv6Type.DEST_UNREACHABLE);
  assert.equal(v6?.code, Icmpv6UnreachableCode.PORT);
  assert.equal(engine.flowCounts.udp, 0);
  assert.equal(engine.counters.refused, 2);
  engine.close("test over");
});

test("a connect refused by the kernel (broadcast without SO_BROADCAST: EACCES) ends the flow with ICMP administratively prohibited", async () => {
  const { udp, output, table, internalErrors } = forwarder();
  const crashes: unknown[] = [];
  const onUncaught = (error: unknown): void => void crashes.push(error);
  process.on("uncaughtException", onUncaught);
  try {
    sendUdp(udp, "255.255.255.255", 9);
    sendUdp(udp, "255.255.255.255", 9); // queued while the connect runs: dropped with the flow
    const icmp = await output.next(icmpOf);
    assert.equal(icmp.type, Icmpv4Type.DEST_UNREACHABLE);
    assert.equal(icmp.code, Icmpv4UnreachableCode.ADMIN_PROHIBITED);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a send in nextTick would throw by now
    assert.deepEqual(crashes, []);
    assert.equal(udp.flowCount, 0);
    assert.match(table.snapshot()[0]?.closeReason ?? "", /EACCES/);
    assert.equal(output.packets.length, 0, "one ICMP error, not one per datagram");
    assert.deepEqual(internalErrors, []);
  } finally {
    process.off("uncaughtException", onUncaught);
    udp.close("test over");
  }
});

test("each way a socket can fail is told to the remote as the matching ICMP error, IPv4 and IPv6", () => {
  const cases: Array<[string, number, number]> = [
    ["ECONNREFUSED", Icmpv4UnreachableCode.PORT, Icmpv6UnreachableCode.PORT],
    ["EACCES", Icmpv4UnreachableCode.ADMIN_PROHIBITED, Icmpv6UnreachableCode.ADMIN_PROHIBITED],
    ["EPERM", Icmpv4UnreachableCode.ADMIN_PROHIBITED, Icmpv6UnreachableCode.ADMIN_PROHIBITED],
    ["ENETUNREACH", Icmpv4UnreachableCode.NET, Icmpv6UnreachableCode.NO_ROUTE],
    ["EHOSTUNREACH", Icmpv4UnreachableCode.HOST, Icmpv6UnreachableCode.ADDRESS],
    ["EADDRNOTAVAIL", Icmpv4UnreachableCode.HOST, Icmpv6UnreachableCode.ADDRESS],
  ];
  for (const [src, dst] of [
    ["198.18.0.1", "198.19.0.10"],
    ["2001:db8:1::1", "2001:db8:19::10"],
  ] as const) {
    const original = parseIp(
      buildUdpPacket({ src: parseAddress(src), dst: parseAddress(dst), srcPort: 1, dstPort: 9 }),
    );
    for (const [code, v4, v6] of cases) {
      const icmp = icmpOf(socketErrorRefusal(code, original) ?? Buffer.alloc(0));
      assert.equal(icmp?.code, original.version === 4 ? v4 : v6, `${code} over IPv${original.version}`);
    }
    for (const code of ["ENOBUFS", "EAGAIN", "EMSGSIZE"]) {
      assert.equal(socketErrorRefusal(code, original), undefined, `${code}: a quiet loss`);
    }
  }
});

test("a handler that throws something other than a PacketError is contained: counted, logged once, and the next packets are handled", () => {
  const output = new CapturingOutput();
  const policy = new EgressPolicy({ prefixes: ["198.19.0.0/16"], allowLocal: false });
  const logs: string[] = [];
  let calls = 0;
  const engine = new NatEngine({
    output,
    policy,
    linkMtu: 1500,
    log: (line) => logs.push(line),
    icmp: () => ({
      flowCount: 0,
      endFlowsTo: () => 0,
      close: () => undefined,
      handle: () => {
        calls++;
        if (calls === 1) throw new TypeError("a bug in a forwarder");
      },
    }),
  });
  const echo = (sequence: number): Buffer =>
    buildIcmpEchoPacket({
      kind: "request",
      src: REMOTE,
      dst: parseAddress("198.19.0.10"),
      identifier: 7,
      sequence,
    });
  engine.handlePackets([echo(1), echo(2)]);
  engine.handlePacket(echo(3));
  assert.equal(calls, 3, "the packets after the failing one were handled");
  assert.equal(engine.counters.internalErrors, 1);
  assert.equal(engine.counters.malformed, 0);
  assert.equal(logs.length, 1);
  assert.match(logs[0] ?? "", /TypeError: a bug in a forwarder/);
  // Port 0 after it still gets its refusal: the engine goes on.
  engine.handlePacket(
    buildUdpPacket({ src: REMOTE, dst: parseAddress("198.19.0.10"), srcPort: 1, dstPort: 0 }),
  );
  assert.equal(icmpOf(output.packets.at(-1) ?? Buffer.alloc(0))?.code, Icmpv4UnreachableCode.PORT);
  engine.close("test over");
});
