import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, test, type TestContext } from "node:test";
import fc from "fast-check";
import {
  buildTcpPacket,
  buildUdpPacket,
  IcmpView,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6ParameterProblemCode,
  Icmpv6Type,
  parseAddress,
  parseIp,
  parseTransport,
  TcpFlag,
  TcpView,
  type TcpSpec,
  writeIpHeader,
} from "../packet/index.js";
import { EgressPolicy } from "./egress-policy.js";
import { DEFAULT_NAT_LIMITS, NatEngine, type NatLimits } from "./engine.js";
import { CapturingOutput } from "./capturing-output.js";

const REMOTE = parseAddress("198.18.0.1");
const LOOPBACK = parseAddress("127.0.0.1");

function tcpOf(packet: Buffer): TcpView | undefined {
  const t = parseTransport(parseIp(packet));
  return t.kind === "tcp" ? t.tcp : undefined;
}

/** A TCP segment from the remote to this machine's loopback; ack 0 unless given. */
function fromRemote(segment: Omit<TcpSpec, "src" | "dst" | "ack"> & { ack?: number }): Buffer {
  return buildTcpPacket({ src: REMOTE, dst: LOOPBACK, ack: 0, ...segment });
}

/** A SYN from the remote, as its kernel opens a connection. */
function synFromRemote(srcPort: number, dstPort: number, seq: number, window: number): Buffer {
  return fromRemote({ srcPort, dstPort, seq, flags: TcpFlag.SYN, window });
}

/** The next RST the engine sends. */
function nextRst(output: CapturingOutput): Promise<TcpView> {
  return output.next((p) => {
    const tcp = tcpOf(p);
    return tcp?.rst ? tcp : undefined;
  });
}

function icmpOf(packet: Buffer): IcmpView | undefined {
  const t = parseTransport(parseIp(packet));
  return t.kind === "icmp" ? t.icmp : undefined;
}

const HOP_BY_HOP = 0;
const DESTINATION_OPTIONS = 60;
const NO_NEXT_HEADER = 59;
const GRE = 47;
const SCTP = 132;

/** An IP packet of any protocol: `payload` after the IP header (and IPv6 extension headers). */
function rawPacket(src: string, dst: string, protocol: number, payload: Uint8Array): Buffer {
  const spec = { src: parseAddress(src), dst: parseAddress(dst) };
  const header = spec.src.length === 4 ? 20 : 40;
  const packet = Buffer.alloc(header + payload.length);
  writeIpHeader(packet, 0, spec, protocol, payload.length);
  packet.set(payload, header);
  return packet;
}

/** `packet` (IPv6, no extension header yet) with an 8-byte options header of `type` inserted first. */
function withOptionsHeader(packet: Buffer, type: number): Buffer {
  const options = Buffer.from([packet[6]!, 0, 1, 4, 0, 0, 0, 0]); // next header, length 0, PadN
  const out = Buffer.concat([packet.subarray(0, 40), options, packet.subarray(40)]);
  out[6] = type;
  out.writeUInt16BE(out.readUInt16BE(4) + options.length, 4);
  return out;
}

function newEngine(allowLocal: boolean, output = new CapturingOutput(), limits?: NatLimits) {
  const policy = new EgressPolicy({ prefixes: ["198.19.0.0/16", "2001:db8:19::/48"], allowLocal });
  return { engine: new NatEngine({ output, policy, linkMtu: 65520, ...(limits ? { limits } : {}) }), output };
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

  test("a SYN offering an MSS of 1 gets segments of 48 bytes, as Linux's tcp_min_snd_mss (CVE-2019-11479)", async () => {
    const { engine, output } = newEngine(true);
    const base = { src: REMOTE, dst: LOOPBACK, srcPort: 40100, dstPort: port, window: 65535 };
    const acceptedBefore = accepted.length;
    engine.handlePackets([
      buildTcpPacket({ ...base, seq: 1000, ack: 0, flags: TcpFlag.SYN, options: { mss: 1 } }),
    ]);
    const synAck = await output.next((p) => (tcpOf(p)?.syn ? tcpOf(p) : undefined));
    engine.handlePackets([buildTcpPacket({ ...base, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK })]);
    while (accepted.length === acceptedBefore) await new Promise((resolve) => setTimeout(resolve, 5));
    accepted[accepted.length - 1]!.write(Buffer.alloc(200, 7));
    const first = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp && tcp.payload.length > 0 ? tcp : undefined;
    });
    assert.equal(first.payload.length, 48);
    engine.close("test over");
  });

  test("a refused port is answered with RST, as the destination did", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { engine, output } = newEngine(true);
    engine.handlePackets([synFromRemote(40001, closedPort, 5, 1000)]);
    const rst = await nextRst(output);
    assert.equal(rst.ack, 6);
    const row = engine.table.snapshot()[0]!;
    assert.equal(row.state, "CLOSED");
    assert.match(row.closeReason ?? "", /ECONNREFUSED/);
  });

  test("a far destination that accepted a moment ago is answered before the connect, and reset if it then refuses", async (t) => {
    const service = createServer((socket) => socket.on("error", () => undefined));
    const received: string[] = [];
    const clients: Socket[] = [];
    service.on("connection", (socket) => {
      clients.push(socket);
      socket.on("data", (chunk: Buffer) => received.push(chunk.toString()));
    });
    await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
    const servicePort = (service.address() as AddressInfo).port;
    // Loopback connects in well under a millisecond: count it as far for this test.
    const limits = { ...DEFAULT_NAT_LIMITS, tcp: { ...DEFAULT_NAT_LIMITS.tcp, optimisticMinConnectMs: 0 } };
    const { engine, output } = newEngine(true, new CapturingOutput(), limits);
    // Whatever fails below, the service and the engine's sockets go, or the file would never exit.
    t.after(() => {
      engine.close("test over");
      for (const client of clients) client.destroy();
      service.close();
    });
    const syn = (srcPort: number): Buffer => synFromRemote(srcPort, servicePort, 7000, 65535);
    const synAckNow = (srcPort: number): TcpView | undefined =>
      output.packets.map(tcpOf).find((tcp) => tcp?.syn && tcp.dstPort === srcPort);

    // First contact: no answer until the real connect has succeeded.
    engine.handlePackets([syn(41000)]);
    assert.equal(synAckNow(41000), undefined, "first contact: the SYN waits for the connect");
    await output.next((p) => (tcpOf(p)?.syn ? true : undefined));

    // It accepted: the next SYN is answered in the same call, and the remote's first bytes,
    // sent before the connect completed, reach the service.
    engine.handlePackets([syn(41001)]);
    const early = synAckNow(41001);
    assert.ok(early, "a destination that accepted a moment ago is answered at once");
    engine.handlePackets([
      fromRemote({
        srcPort: 41001,
        dstPort: servicePort,
        seq: 7001,
        ack: early.seq + 1,
        flags: TcpFlag.ACK | TcpFlag.PSH,
        window: 65535,
        payload: Buffer.from("early bytes"),
      }),
    ]);
    const deadline = Date.now() + 5_000;
    while (!received.includes("early bytes") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(received, ["early bytes"]);

    // The service stops. Still answered at once (it accepted a moment ago), then reset when the
    // connect is refused; and from then on refused the way the destination refuses.
    for (const client of clients) client.destroy();
    await new Promise<void>((resolve) => service.close(() => resolve()));
    output.packets.length = 0;
    engine.handlePackets([syn(41002)]);
    assert.ok(synAckNow(41002), "answered before the refusal was known");
    const reset = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp?.rst && tcp.dstPort === 41002 ? tcp : undefined;
    });
    assert.equal(reset.ack, 7001);
    const row = engine.table.snapshot().find((r) => r.remote.endsWith(":41002"));
    assert.match(row?.closeReason ?? "", /connect failed: ECONNREFUSED/);

    engine.handlePackets([syn(41003)]);
    assert.equal(synAckNow(41003), undefined, "forgotten after the refusal: connect first again");
    const refused = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp?.rst && tcp.dstPort === 41003 ? tcp : undefined;
    });
    assert.equal(refused.ack, 7001);
    assert.equal(
      output.packets.some((p) => tcpOf(p)?.syn && tcpOf(p)?.dstPort === 41003),
      false,
      "no SYN-ACK for a refused first contact",
    );
  });
});

/**
 * A NAT engine that lets the remote reach this computer, and a TCP service on loopback that keeps
 * the sockets it accepts; both closed after the test.
 */
async function engineWithLoopbackService(t: TestContext) {
  const sockets: Socket[] = [];
  const service = createServer((socket) => {
    socket.on("error", () => undefined);
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
  const output = new CapturingOutput();
  const policy = new EgressPolicy({ prefixes: ["198.19.0.0/16"], allowLocal: true });
  const engine = new NatEngine({ output, policy, linkMtu: 65520 });
  t.after(() => {
    engine.close("test over");
    for (const socket of sockets) socket.destroy();
    service.close();
  });
  return { sockets, servicePort: (service.address() as AddressInfo).port, output, policy, engine };
}

describe("NAT engine: access to this computer switched off", { timeout: 8_000 }, () => {
  test("the flows open to this computer end (TCP reset both ways, UDP closed), counted; new ones are refused", async (t) => {
    const { sockets, servicePort, output, policy, engine } = await engineWithLoopbackService(t);
    const udpService = createSocket("udp4");
    await new Promise<void>((resolve) => udpService.bind(0, "127.0.0.1", resolve));
    t.after(() => udpService.close());
    const udpHeard = new Promise<void>((resolve) => udpService.once("message", () => resolve()));

    engine.handlePackets([synFromRemote(42000, servicePort, 9000, 65535)]);
    const synAck = await output.next((p) => (tcpOf(p)?.syn ? tcpOf(p) : undefined));
    engine.handlePackets([
      fromRemote({
        srcPort: 42000,
        dstPort: servicePort,
        seq: 9001,
        ack: synAck.seq + 1,
        flags: TcpFlag.ACK,
        window: 65535,
      }),
      buildUdpPacket({
        src: REMOTE,
        dst: LOOPBACK,
        srcPort: 42001,
        dstPort: (udpService.address() as AddressInfo).port,
        payload: Buffer.from("ping"),
      }),
    ]);
    await udpHeard;
    while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const serviceSideClosed = new Promise<void>((resolve) => sockets[0]!.once("close", () => resolve()));
    assert.equal(engine.table.openCount, 2);

    policy.setAllowLocal(false);
    const ended = engine.endFlowsTo((address) => policy.isThisComputer(address), "access switched off");
    assert.equal(ended, 2, "the TCP and the UDP flow");
    const reset = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp?.rst && tcp.dstPort === 42000 ? tcp : undefined;
    });
    assert.ok(reset, "the remote hears an RST");
    await serviceSideClosed; // the service's side is reset too
    assert.equal(engine.table.openCount, 0);
    assert.deepEqual(
      engine.table.snapshot().map((row) => row.closeReason),
      ["access switched off", "access switched off"],
    );
    assert.equal(
      engine.endFlowsTo((address) => policy.isThisComputer(address), "again"),
      0,
    );

    // The same SYN again meets the policy: prohibited, no socket.
    output.packets.length = 0;
    engine.handlePackets([synFromRemote(42002, servicePort, 9100, 65535)]);
    const prohibited = output.packets.map(icmpOf).find((icmp) => icmp?.type === Icmpv4Type.DEST_UNREACHABLE);
    assert.equal(prohibited?.code, Icmpv4UnreachableCode.ADMIN_PROHIBITED);
  });
});

describe("NAT engine: access switched off after a flow ended", { timeout: 8_000 }, () => {
  test("a flow in TIME-WAIT is not counted, gets no RST and keeps its own close reason", async (t) => {
    const { sockets, servicePort, output, policy, engine } = await engineWithLoopbackService(t);

    engine.handlePackets([synFromRemote(42100, servicePort, 9000, 65535)]);
    const synAck = await output.next((p) => (tcpOf(p)?.syn ? tcpOf(p) : undefined));
    const ack = (seq: number, ackNo: number, flags: number) =>
      fromRemote({ srcPort: 42100, dstPort: servicePort, seq, ack: ackNo, flags, window: 65535 });
    engine.handlePackets([ack(9001, synAck.seq + 1, TcpFlag.ACK)]);
    while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The service closes first: this side sends its FIN, the remote acknowledges it and sends its
    // own, and the flow waits in TIME-WAIT.
    sockets[0]!.end();
    const fin = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp?.fin && tcp.dstPort === 42100 ? tcp : undefined;
    });
    engine.handlePackets([ack(9001, fin.seq + 1, TcpFlag.ACK | TcpFlag.FIN)]);
    await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp && !tcp.fin && tcp.dstPort === 42100 && tcp.ack === 9002 ? tcp : undefined;
    });
    const reasonBefore = engine.table.snapshot()[0]?.closeReason;

    output.packets.length = 0;
    policy.setAllowLocal(false);
    assert.equal(
      engine.endFlowsTo((address) => policy.isThisComputer(address), "access switched off"),
      0,
    );
    assert.equal(
      output.packets.some((p) => tcpOf(p)?.rst),
      false,
      "no RST for a connection that ended",
    );
    assert.equal(engine.table.snapshot()[0]?.closeReason, reasonBefore);
  });
});

describe("NAT engine refusals and bad input", { timeout: 20_000 }, () => {
  test("a protocol the exit does not speak is answered as a host does (protocol unreachable, or a parameter problem at its Next Header), or prohibited where the policy refuses", () => {
    const { engine, output } = newEngine(false);
    const gre = rawPacket("198.18.0.1", "198.19.0.10", GRE, Buffer.from("gre payload"));
    const sctp = rawPacket("2001:db8:1::1", "2001:db8:19::10", SCTP, Buffer.from("sctp payload"));
    const behindOptions = withOptionsHeader(sctp, HOP_BY_HOP);
    const icmpv6InIpv4 = rawPacket("198.18.0.1", "198.19.0.10", 58, Buffer.alloc(8));
    const notAdvertised = rawPacket("198.18.0.1", "198.18.100.1", GRE, Buffer.from("gre payload"));
    engine.handlePackets([gre, sctp, behindOptions, icmpv6InIpv4, notAdvertised]);
    assert.equal(engine.counters.unsupportedProtocol, 5);
    const answers = output.packets.map((packet) => {
      const ip = parseIp(packet);
      const icmp = icmpOf(packet);
      assert.ok(icmp && icmp.verifyChecksum(ip), "a well-formed ICMP message");
      return {
        from: ip.src.toString("hex"),
        to: ip.dst.toString("hex"),
        type: icmp.type,
        code: icmp.code,
        pointer: icmp.restOfHeader,
        quote: icmp.payload.toString("hex"),
      };
    });
    const answer = (of: Buffer, type: number, code: number, pointer: number) => {
      const ip = parseIp(of);
      return {
        from: ip.dst.toString("hex"),
        to: ip.src.toString("hex"),
        type,
        code,
        pointer,
        quote: of.toString("hex"),
      };
    };
    assert.deepEqual(answers, [
      answer(gre, Icmpv4Type.DEST_UNREACHABLE, Icmpv4UnreachableCode.PROTOCOL, 0),
      answer(sctp, Icmpv6Type.PARAMETER_PROBLEM, Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER, 6),
      answer(
        behindOptions,
        Icmpv6Type.PARAMETER_PROBLEM,
        Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER,
        40,
      ),
      answer(icmpv6InIpv4, Icmpv4Type.DEST_UNREACHABLE, Icmpv4UnreachableCode.PROTOCOL, 0),
      answer(notAdvertised, Icmpv4Type.DEST_UNREACHABLE, Icmpv4UnreachableCode.ADMIN_PROHIBITED, 0),
    ]);
    assert.equal(engine.counters.internalErrors, 0);
    engine.close("test over");
  });

  test("no answer to a source that is no single host (multicast, unspecified, broadcast), nor to No Next Header", () => {
    const { engine, output } = newEngine(false);
    engine.handlePackets([
      rawPacket("224.0.0.1", "198.19.0.10", GRE, Buffer.alloc(4)),
      rawPacket("0.0.0.0", "198.19.0.10", GRE, Buffer.alloc(4)),
      rawPacket("255.255.255.255", "198.19.0.10", GRE, Buffer.alloc(4)),
      rawPacket("ff02::1", "2001:db8:19::10", SCTP, Buffer.alloc(4)),
      rawPacket("::", "2001:db8:19::10", SCTP, Buffer.alloc(4)),
      rawPacket("2001:db8:1::1", "2001:db8:19::10", NO_NEXT_HEADER, Buffer.alloc(0)),
    ]);
    assert.equal(engine.counters.badSource, 5);
    assert.equal(engine.counters.unsupportedProtocol, 1);
    assert.deepEqual(output.packets, []);
    engine.close("test over");
  });

  test("TCP and UDP from a source that is no single host open nothing and earn no RST or ICMP", () => {
    const { engine, output } = newEngine(true);
    const syn = (src: string, dst: string): Buffer =>
      buildTcpPacket({
        src: parseAddress(src),
        dst: parseAddress(dst),
        srcPort: 40_000,
        dstPort: 9,
        seq: 1,
        ack: 0,
        flags: TcpFlag.SYN,
        window: 1000,
      });
    const udp = (src: string, dst: string): Buffer =>
      buildUdpPacket({
        src: parseAddress(src),
        dst: parseAddress(dst),
        srcPort: 40_000,
        dstPort: 9,
        payload: Buffer.from("x"),
      });
    engine.handlePackets([
      syn("0.0.0.0", "127.0.0.1"),
      syn("224.0.0.5", "198.18.100.1"),
      syn("ff02::1", "::1"),
      udp("255.255.255.255", "127.0.0.1"),
      udp("::", "2001:db8:100::1"),
      udp("240.0.0.1", "198.19.0.10"),
    ]);
    assert.equal(engine.counters.badSource, 6);
    assert.equal(engine.table.size, 0, "no flow opened");
    assert.deepEqual(output.packets, [], "no RST or ICMP to a multicast, broadcast or unspecified address");
    engine.close("test over");
  });

  test("a protocol the DNS stub does not speak is answered too, not dropped", () => {
    const output = new CapturingOutput();
    const policy = new EgressPolicy({ prefixes: ["198.19.0.0/16"], allowLocal: false });
    const stub = parseAddress("198.18.0.2");
    const engine = new NatEngine({
      output,
      policy,
      linkMtu: 65520,
      dnsStub: {
        addresses: [stub],
        resolver: {
          answerUdp: () => Promise.resolve(null),
          tcp: {
            serve: () => {
              throw new Error("no TCP in this test");
            },
            idleTimeoutMs: 10_000,
          },
        },
      },
    });
    engine.handlePackets([rawPacket("198.18.0.1", "198.18.0.2", GRE, Buffer.alloc(4))]);
    assert.equal(output.packets.length, 1, "one answer");
    const icmp = icmpOf(output.packets[0]!);
    assert.deepEqual([icmp?.type, icmp?.code], [Icmpv4Type.DEST_UNREACHABLE, Icmpv4UnreachableCode.PROTOCOL]);
    assert.equal(engine.counters.unsupportedProtocol, 1);
    engine.close("test over");
  });

  test("TCP behind a Hop-by-Hop header and UDP behind Destination Options reach their destination", async (t) => {
    const listener = createServer((socket) => socket.destroy());
    const datagrams = createSocket("udp6");
    t.after(() => {
      listener.close();
      datagrams.close();
    });
    await new Promise<void>((resolve) => listener.listen(0, "::1", resolve));
    await new Promise<void>((resolve) => datagrams.bind(0, "::1", resolve));
    const received = new Promise<string>((resolve) =>
      datagrams.once("message", (m) => resolve(m.toString())),
    );
    const { engine, output } = newEngine(true);
    t.after(() => engine.close("test over"));
    const src = parseAddress("2001:db8:1::1");
    const dst = parseAddress("::1");
    const syn = buildTcpPacket({
      src,
      dst,
      srcPort: 40200,
      dstPort: (listener.address() as AddressInfo).port,
      seq: 1,
      ack: 0,
      flags: TcpFlag.SYN,
      window: 65535,
    });
    const datagram = buildUdpPacket({
      src,
      dst,
      srcPort: 40201,
      dstPort: datagrams.address().port,
      payload: Buffer.from("behind destination options"),
    });
    engine.handlePackets([
      withOptionsHeader(syn, HOP_BY_HOP),
      withOptionsHeader(datagram, DESTINATION_OPTIONS),
    ]);
    const synAck = await output.next((p) => {
      const tcp = tcpOf(p);
      return tcp?.syn ? tcp : undefined;
    });
    assert.ok(synAck.hasAck);
    assert.equal(synAck.ack, 2);
    assert.equal(await received, "behind destination options");
    assert.equal(engine.counters.unsupportedProtocol + engine.counters.malformed, 0);
  });

  test("a destination outside the policy gets ICMP administratively prohibited, and no socket", async () => {
    const { engine, output } = newEngine(false);
    engine.handlePackets([synFromRemote(1, 22, 0, 1)]);
    const icmp = await output.next(icmpOf);
    assert.ok(icmp instanceof IcmpView);
    assert.equal(icmp.type, Icmpv4Type.DEST_UNREACHABLE);
    assert.equal(icmp.code, Icmpv4UnreachableCode.ADMIN_PROHIBITED);
    assert.equal(engine.counters.refused, 1);
    assert.equal(engine.table.size, 0);
  });

  test("TCP to port 0 is reset without a connect: no service listens there", async () => {
    const { engine, output } = newEngine(true);
    engine.handlePackets([synFromRemote(40002, 0, 5, 1000)]);
    const rst = await nextRst(output);
    assert.equal(rst.ack, 6);
    assert.equal(rst.srcPort, 0);
    assert.equal(engine.table.size, 0, "no flow, no dial");
    assert.equal(engine.counters.refused, 1);
    engine.close("test over");
  });

  test("a segment for no flow is reset", () => {
    const { engine, output } = newEngine(true);
    engine.handlePackets([
      fromRemote({
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
