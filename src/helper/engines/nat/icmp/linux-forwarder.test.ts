// LinuxIcmpForwarder's mapping logic over a fake socket: what goes out on the wire, how replies
// find their way back to the remote's (address, identifier, sequence), and every drop path.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatAddress,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Type,
  parseAddress,
} from "../../packet/index.js";
import type { EchoReplyListener, EchoSocket, EchoSocketMode } from "./echo-socket.js";
import { DEFAULT_LINUX_ICMP_LIMITS, LinuxIcmpForwarder, type LinuxIcmpLimits } from "./linux-forwarder.js";
import { echoRequest, parseOutput, testContext, type TestContext } from "./testing.js";

const PREFIXES = ["198.18.5.0/24", "2001:db8:5::/64"];

class FakeSocket implements EchoSocket {
  readonly sent: Array<{ address: string; message: Buffer }> = [];
  nextError: string | null = null;
  closed = false;

  constructor(
    readonly family: 4 | 6,
    readonly mode: EchoSocketMode,
    readonly identifier: number | null,
    private readonly onReply: EchoReplyListener,
  ) {}

  send(address: Uint8Array, message: Uint8Array): string | null {
    if (this.closed) return "EBADF";
    this.sent.push({ address: formatAddress(address), message: Buffer.from(message) });
    return this.nextError;
  }

  close(): void {
    this.closed = true;
  }

  /** The destination answers the i-th request sent: same identifier, sequence and data. */
  answer(index: number, from?: string, identifier?: number): void {
    const request = this.sent[index]!;
    const reply = Buffer.from(request.message);
    reply[0] = this.family === 4 ? Icmpv4Type.ECHO_REPLY : Icmpv6Type.ECHO_REPLY;
    if (identifier !== undefined) reply.writeUInt16BE(identifier, 4);
    this.onReply(parseAddress(from ?? request.address), reply);
  }
}

interface Setup {
  context: TestContext;
  forwarder: LinuxIcmpForwarder;
  sockets: FakeSocket[];
  logs: string[];
}

function setup(
  options: { mode?: EchoSocketMode; limits?: Partial<LinuxIcmpLimits>; failOpen?: boolean } = {},
): Setup {
  const context = testContext(PREFIXES, { now: 1_000_000 });
  const sockets: FakeSocket[] = [];
  const logs: string[] = [];
  const forwarder = new LinuxIcmpForwarder(context, {
    limits: { ...DEFAULT_LINUX_ICMP_LIMITS, ...options.limits },
    log: (message) => logs.push(message),
    openSocket: (family, onReply) => {
      if (options.failOpen) throw new Error("EACCES: cannot open an ICMP socket for IPv4");
      const mode = options.mode ?? "datagram";
      const socket = new FakeSocket(family, mode, mode === "datagram" ? 40_000 + family : null, onReply);
      sockets.push(socket);
      return socket;
    },
  });
  return { context, forwarder, sockets, logs };
}

function send(forwarder: LinuxIcmpForwarder, ...args: Parameters<typeof echoRequest>): void {
  const { ip, icmp } = echoRequest(...args);
  forwarder.handle(ip, icmp);
}

test("an IPv4 echo goes out with the socket's identifier and comes back as the remote's", () => {
  const { context, forwarder, sockets } = setup();
  const payload = Buffer.from("0123456789abcdef0123456789abcdef");
  send(forwarder, "198.18.0.1", "198.18.5.2", 1234, 7, payload);
  const socket = sockets[0]!;
  assert.equal(socket.sent.length, 1);
  const wire = socket.sent[0]!;
  assert.equal(wire.address, "198.18.5.2");
  assert.equal(wire.message[0], Icmpv4Type.ECHO_REQUEST);
  assert.equal(wire.message.readUInt16BE(4), 40_004, "the kernel's identifier");
  assert.deepEqual(wire.message.subarray(8), payload);

  socket.answer(0);
  assert.equal(context.output.packets.length, 1);
  const { ip, icmp } = parseOutput(context.output.packets[0]!);
  assert.equal(formatAddress(ip.src), "198.18.5.2");
  assert.equal(formatAddress(ip.dst), "198.18.0.1");
  assert.equal(ip.version === 4 && ip.verifyHeaderChecksum(), true);
  assert.equal(icmp.type, Icmpv4Type.ECHO_REPLY);
  assert.equal(icmp.verifyChecksum(ip), true);
  assert.equal(icmp.identifier, 1234);
  assert.equal(icmp.sequence, 7);
  assert.deepEqual(icmp.payload, payload);

  const [row] = context.table.snapshot();
  assert.equal(row?.protocol, "icmp");
  assert.equal(row?.remote, "198.18.0.1 id 1234");
  assert.equal(row?.destination, "198.18.5.2");
  assert.equal(row?.state, "ACTIVE");
  assert.deepEqual([row?.upPackets, row?.downPackets], [1, 1]);
  assert.deepEqual([row?.upBytes, row?.downBytes], [8 + payload.length, 8 + payload.length]);
  assert.deepEqual(forwarder.modes, { 4: "datagram", 6: undefined });
});

test("two remote pings with the same sequence to one destination stay apart", () => {
  const { context, forwarder, sockets } = setup();
  send(forwarder, "198.18.0.1", "198.18.5.2", 100, 1);
  send(forwarder, "198.18.0.9", "198.18.5.2", 200, 1);
  send(forwarder, "198.18.0.1", "198.18.5.2", 100, 2);
  const socket = sockets[0]!;
  const wireSequences = socket.sent.map((sent) => sent.message.readUInt16BE(6));
  assert.equal(new Set(wireSequences).size, 3, "every request in flight has its own wire sequence");
  // Replies in another order than the requests.
  socket.answer(2);
  socket.answer(1);
  socket.answer(0);
  const replies = context.output.packets.map((packet) => {
    const { ip, icmp } = parseOutput(packet);
    return `${formatAddress(ip.dst)} ${icmp.identifier}/${icmp.sequence}`;
  });
  assert.deepEqual(replies, ["198.18.0.1 100/2", "198.18.0.9 200/1", "198.18.0.1 100/1"]);
  assert.equal(context.table.size, 2, "one row per (remote, destination, identifier)");
  assert.equal(forwarder.flowCount, 2);
});

test("IPv6 over a raw socket: our own identifier, replies carrying another are not ours", () => {
  const { context, forwarder, sockets } = setup({ mode: "raw" });
  send(forwarder, "2001:db8:1::1", "2001:db8:5::2", 4321, 9);
  const socket = sockets[0]!;
  assert.equal(socket.family, 6);
  const wire = socket.sent[0]!.message;
  assert.equal(wire[0], Icmpv6Type.ECHO_REQUEST);
  const ours = wire.readUInt16BE(4);
  socket.answer(0, undefined, (ours + 1) & 0xffff); // another program's ping
  assert.equal(context.output.packets.length, 0);
  assert.equal(forwarder.stats.strayReplies, 1);
  socket.answer(0);
  const { ip, icmp } = parseOutput(context.output.packets[0]!);
  assert.equal(formatAddress(ip.src), "2001:db8:5::2");
  assert.equal(formatAddress(ip.dst), "2001:db8:1::1");
  assert.equal(icmp.type, Icmpv6Type.ECHO_REPLY);
  assert.equal(icmp.verifyChecksum(ip), true);
  assert.deepEqual([icmp.identifier, icmp.sequence], [4321, 9]);
  assert.deepEqual(forwarder.modes, { 4: undefined, 6: "raw" });
});

test("a reply from another address, a duplicate or a late one is dropped", () => {
  const { context, forwarder, sockets } = setup();
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 1);
  const socket = sockets[0]!;
  socket.answer(0, "198.18.5.3");
  socket.answer(0);
  socket.answer(0);
  assert.equal(context.output.packets.length, 1);
  assert.equal(forwarder.stats.strayReplies, 2);
});

test("a refused destination gets admin-prohibited and opens nothing", () => {
  const { context, forwarder, sockets } = setup();
  send(forwarder, "198.18.0.1", "198.19.9.9", 1, 1);
  assert.equal(context.counters.refused, 1);
  assert.equal(context.table.size, 0);
  const { ip, icmp } = parseOutput(context.output.packets[0]!);
  assert.equal(icmp.type, Icmpv4Type.DEST_UNREACHABLE);
  assert.equal(icmp.code, Icmpv4UnreachableCode.ADMIN_PROHIBITED);
  assert.equal(formatAddress(ip.dst), "198.18.0.1");
  assert.equal(sockets.length, 0, "no socket opened for it");
});

test("other ICMP types and corrupt requests are counted and dropped", () => {
  const { context, forwarder, sockets } = setup();
  const reply = echoRequest("198.18.0.1", "198.18.5.2", 1, 1);
  reply.ip.payload[0] = Icmpv4Type.ECHO_REPLY; // checksum now wrong too, but the type decides first
  forwarder.handle(reply.ip, reply.icmp);
  const corrupt = echoRequest("198.18.0.1", "198.18.5.2", 1, 1);
  corrupt.ip.payload[9] = corrupt.ip.payload[9]! ^ 0xff;
  forwarder.handle(corrupt.ip, corrupt.icmp);
  assert.equal(context.counters.icmpUnsupported, 1);
  assert.equal(context.counters.badChecksum, 1);
  assert.equal(sockets[0]?.sent.length ?? 0, 0);
  assert.equal(context.table.size, 0);
});

test("flows and requests in flight are capped", () => {
  const { context, forwarder, sockets } = setup({ limits: { maxFlows: 2, maxOutstanding: 3 } });
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 1);
  send(forwarder, "198.18.0.1", "198.18.5.2", 2, 1);
  send(forwarder, "198.18.0.1", "198.18.5.2", 3, 1); // a third flow
  assert.equal(context.counters.icmpOverLimit, 1);
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 2);
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 3); // a fourth request in flight
  assert.equal(context.counters.icmpOverLimit, 2);
  assert.equal(sockets[0]!.sent.length, 3);
  sockets[0]!.answer(0);
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 3); // room again
  assert.equal(sockets[0]!.sent.length, 4);
});

test("unanswered requests expire; idle flows close and release the socket", () => {
  const { context, forwarder, sockets } = setup();
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 1);
  const socket = sockets[0]!;
  context.clock.now += DEFAULT_LINUX_ICMP_LIMITS.replyTimeoutMs;
  forwarder.sweep(context.clock.now); // normally a timer's job
  assert.equal(forwarder.stats.expired, 1);
  socket.answer(0);
  assert.equal(context.output.packets.length, 0, "a reply after expiry is stray");

  context.clock.now += DEFAULT_LINUX_ICMP_LIMITS.idleTimeoutMs;
  forwarder.sweep(context.clock.now);
  assert.equal(forwarder.flowCount, 0);
  assert.equal(context.table.snapshot()[0]?.closeReason, "idle timeout");
  assert.equal(socket.closed, true, "no flows left: the socket is closed");

  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 2);
  assert.equal(sockets.length, 2, "the next request opens a new one");
});

test("a send this computer cannot make is answered at once, as a router would; a full buffer is a quiet drop", () => {
  const { context, forwarder, sockets } = setup();
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 1);
  const expected: Array<[string, number | undefined]> = [
    ["ENETUNREACH", Icmpv4UnreachableCode.NET], // no route
    ["EHOSTUNREACH", Icmpv4UnreachableCode.HOST], // an unreachable route
    ["EACCES", Icmpv4UnreachableCode.ADMIN_PROHIBITED], // a prohibit route
    ["EPERM", Icmpv4UnreachableCode.ADMIN_PROHIBITED], // this computer's firewall
    ["EINVAL", Icmpv4UnreachableCode.HOST], // a blackhole route
    ["ENOBUFS", undefined], // congestion: lost, as on any router
  ];
  expected.forEach(([error], i) => {
    sockets[0]!.nextError = error;
    send(forwarder, "198.18.0.1", "198.18.5.2", 1, 2 + i);
  });
  assert.equal(forwarder.stats.sendErrors, expected.length);
  const codes = context.output.packets.map((packet) => {
    const { icmp } = parseOutput(packet);
    assert.equal(icmp.type, Icmpv4Type.DEST_UNREACHABLE);
    return icmp.code;
  });
  assert.deepEqual(
    codes,
    expected.flatMap(([, code]) => (code === undefined ? [] : [code])),
  );
});

test("a family without a socket is logged once and its requests counted", () => {
  const { context, forwarder, logs } = setup({ failOpen: true });
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 1);
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 2);
  assert.equal(context.counters.icmpUnsupported, 2);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /IPv4 is unavailable: EACCES/);
  // The first request's row says why it went nowhere; later ones make no rows.
  assert.deepEqual(
    context.table.snapshot().map((row) => row.closeReason),
    ["no ICMP socket: EACCES: cannot open an ICMP socket for IPv4"],
  );
});

test("close ends every flow with the reason and ignores what comes after", () => {
  const { context, forwarder, sockets } = setup();
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 1);
  send(forwarder, "2001:db8:1::1", "2001:db8:5::2", 1, 1);
  forwarder.close("link lost");
  assert.deepEqual(
    context.table.snapshot().map((row) => row.closeReason),
    ["link lost", "link lost"],
  );
  assert.equal(
    sockets.every((socket) => socket.closed),
    true,
  );
  sockets[0]!.answer(0);
  send(forwarder, "198.18.0.1", "198.18.5.2", 1, 2);
  assert.equal(context.output.packets.length, 0);
  assert.equal(sockets.length, 2);
  forwarder.close("again"); // idempotent
});
