import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import {
  buildTcpPacket,
  IcmpView,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  parseAddress,
  parseIp,
  parseTransport,
  TcpFlag,
  TcpView,
  type TcpSpec,
} from "../packet/index.js";
import { EgressPolicy } from "./egress-policy.js";
import { NatEngine } from "./engine.js";
import { CapturingOutput } from "./capturing-output.js";

const REMOTE = parseAddress("198.18.0.1");
const LOOPBACK = parseAddress("127.0.0.1");

function tcpOf(packet: Buffer): TcpView | undefined {
  const t = parseTransport(parseIp(packet));
  return t.kind === "tcp" ? t.tcp : undefined;
}

function newEngine(allowLocal: boolean, output = new CapturingOutput()) {
  const policy = new EgressPolicy({ prefixes: ["198.19.0.0/16"], allowLocal });
  return { engine: new NatEngine({ output, policy, linkMtu: 65520 }), output };
}

describe("NAT engine with a userspace peer", { timeout: 8_000 }, () => {
  let server: Server;
  let port = 0;
  const accepted: Socket[] = [];
  before(async () => {
    server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on("error", () => undefined); // the engine resets its sockets when a test ends
      accepted.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    for (const socket of accepted) socket.destroy();
    server.close();
  });

  test("dials first, then answers with a SYN-ACK negotiating MSS, window scale and SACK", async () => {
    const { engine, output } = newEngine(true);
    const base: Omit<TcpSpec, "seq" | "ack" | "flags"> = {
      src: REMOTE,
      dst: LOOPBACK,
      srcPort: 40000,
      dstPort: port,
      window: 65535,
    };
    engine.handlePackets([
      buildTcpPacket({
        ...base,
        seq: 1000,
        ack: 0,
        flags: TcpFlag.SYN,
        options: { mss: 65480, windowScale: 7, sackPermitted: true },
      }),
    ]);
    const synAck = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp && tcp.syn ? tcp : undefined;
    });
    assert.ok(synAck.hasAck);
    assert.equal(synAck.ack, 1001);
    const options = synAck.options();
    assert.equal(options.mss, 65520 - 40);
    assert.equal(options.windowScale, 7);
    assert.equal(options.sackPermitted, true);
    assert.equal(accepted.length > 0, true, "the real connect happened before the SYN-ACK");
    const row = engine.table.snapshot()[0]!;
    assert.equal(row.state, "SYN-RECEIVED");

    // Complete the handshake with data: it reaches the server.
    const server = accepted[accepted.length - 1]!;
    const received = new Promise<Buffer>((resolve) => server.once("data", resolve));
    engine.handlePackets([
      buildTcpPacket({
        ...base,
        seq: 1001,
        ack: synAck.seq + 1,
        flags: TcpFlag.ACK | TcpFlag.PSH,
        payload: Buffer.from("hello"),
      }),
    ]);
    assert.equal((await received).toString(), "hello");
    // The row's counters reach subscribers with the next delta.
    const deltas: number[] = [];
    const unsubscribe = engine.table.subscribe((delta) =>
      deltas.push(...delta.upserts.map((r) => r.upBytes)),
    );
    engine.table.publish();
    unsubscribe();
    assert.deepEqual(deltas, [5]);
    const ack = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp && tcp.ack === 1006 && tcp.payload.length === 0 ? tcp : undefined;
    });
    assert.ok(ack.window > 0);

    // The server answers and closes: data then FIN come back.
    server.end("world");
    const data = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp && tcp.payload.length > 0 ? tcp : undefined;
    });
    assert.equal(data.payload.toString(), "world");
    assert.equal(data.seq, synAck.seq + 1);
    engine.close("test over");
  });

  test("a refused port is answered with RST, as the destination did", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { engine, output } = newEngine(true);
    engine.handlePackets([
      buildTcpPacket({
        src: REMOTE,
        dst: LOOPBACK,
        srcPort: 40001,
        dstPort: closedPort,
        seq: 5,
        ack: 0,
        flags: TcpFlag.SYN,
        window: 1000,
      }),
    ]);
    const rst = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp?.rst ? tcp : undefined;
    });
    assert.equal(rst.ack, 6);
    const row = engine.table.snapshot()[0]!;
    assert.equal(row.state, "CLOSED");
    assert.match(row.closeReason ?? "", /ECONNREFUSED/);
  });
});

describe("NAT engine refusals and bad input", { timeout: 20_000 }, () => {
  test("a destination outside the policy gets ICMP administratively prohibited, and no socket", async () => {
    const { engine, output } = newEngine(false);
    engine.handlePackets([
      buildTcpPacket({
        src: REMOTE,
        dst: LOOPBACK,
        srcPort: 1,
        dstPort: 22,
        seq: 0,
        ack: 0,
        flags: TcpFlag.SYN,
        window: 1,
      }),
    ]);
    const icmp = await output.next((p) => {
      const ip = parseIp(p);
      const t = parseTransport(ip);
      return t.kind === "icmp" ? t.icmp : undefined;
    });
    assert.ok(icmp instanceof IcmpView);
    assert.equal(icmp.type, Icmpv4Type.DEST_UNREACHABLE);
    assert.equal(icmp.code, Icmpv4UnreachableCode.ADMIN_PROHIBITED);
    assert.equal(engine.counters.refused, 1);
    assert.equal(engine.table.size, 0);
  });

  test("a segment for no flow is reset", () => {
    const { engine, output } = newEngine(true);
    engine.handlePackets([
      buildTcpPacket({
        src: REMOTE,
        dst: LOOPBACK,
        srcPort: 1,
        dstPort: 2,
        seq: 10,
        ack: 77,
        flags: TcpFlag.ACK,
        window: 1,
      }),
    ]);
    const rst = tcpOf(output.packets[0]!);
    assert.ok(rst?.rst);
    assert.equal(rst?.seq, 77);
    assert.equal(engine.counters.tcpStraySegments, 1);
  });

  test("random bytes are counted and dropped, never thrown", () => {
    const { engine } = newEngine(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        engine.handlePackets([Buffer.from(bytes)]);
      }),
      { numRuns: 20_000 },
    );
    const { malformed, packetsIn } = engine.counters;
    assert.equal(packetsIn, 20_000);
    assert.ok(malformed > 19_000, `malformed ${malformed}`);
    engine.close("test over");
  });
});
