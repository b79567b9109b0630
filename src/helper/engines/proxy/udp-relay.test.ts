// UDP ASSOCIATE end to end on this machine: a real SOCKS5 client over loopback, the relay's
// packets recorded on a RecordingPort standing for the link, replies injected as the exit would.
import assert from "node:assert/strict";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { decode, encode } from "dns-packet";
import { parseAddress, formatAddress } from "../packet/address.js";
import { buildUdpPacket } from "../packet/build.js";
import { parseIp, parseTransport } from "../packet/ip.js";
import { RecordingPort } from "../port/testing.js";
import { until } from "../../../shared/test-until.js";
import { newCredentials } from "./credentials.js";
import { FakeStreamOpener } from "./fake-stream-opener.js";
import { ProxyServer } from "./proxy-server.js";
import { encodeUdpHeader, parseUdpHeader } from "./socks5-wire.js";
import { UdpRelay } from "./udp-relay.js";

const ENTRANCE = "198.18.0.1";
const STUB = "198.18.0.2";
const credentials = newCredentials();

async function setUp() {
  const port = new RecordingPort();
  const relay = new UdpRelay({
    port,
    sourceV4: ENTRANCE,
    sourceV6: "2001:db8::1",
    stub: STUB,
    resolveTimeoutMs: 2_000,
  });
  port.onPackets((packets) => {
    for (const packet of packets) relay.handlePacket(packet);
  });
  const proxy = new ProxyServer({
    credentials,
    opener: new FakeStreamOpener(),
    udp: relay,
    log: () => undefined,
  });
  const proxyPort = await proxy.listen();
  return { port, relay, proxy, proxyPort };
}

/** Authenticates, sends UDP ASSOCIATE and returns the control connection and the relay's port. */
async function associate(proxyPort: number, clientPort = 0): Promise<{ control: Socket; relayPort: number }> {
  const control = connect({ port: proxyPort, host: "127.0.0.1" });
  control.on("error", () => undefined);
  let received = Buffer.alloc(0);
  control.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  await once(control, "connect");
  const user = Buffer.from(credentials.username);
  const password = Buffer.from(credentials.password);
  control.write(
    Buffer.concat([
      Buffer.from([5, 1, 2, 1, user.length]),
      user,
      Buffer.from([password.length]),
      password,
      Buffer.from([5, 3, 0, 1, 127, 0, 0, 1, clientPort >> 8, clientPort & 0xff]),
    ]),
  );
  await until(() => received.length >= 14, 5_000, "the UDP ASSOCIATE reply");
  const reply = received.subarray(4);
  assert.equal(reply[1], 0, "UDP ASSOCIATE succeeded");
  assert.equal(formatAddress(reply.subarray(4, 8)), "127.0.0.1");
  return { control, relayPort: reply.readUInt16BE(8) };
}

function udpClient(): { socket: UdpSocket; received: Buffer[] } {
  const socket = createSocket("udp4");
  const received: Buffer[] = [];
  socket.on("message", (message) => received.push(message));
  return { socket, received };
}

function sentUdp(port: RecordingPort, index: number) {
  const ip = parseIp(port.sent[index]!);
  const transport = parseTransport(ip);
  assert.equal(transport.kind, "udp");
  if (transport.kind !== "udp") throw new Error("not UDP");
  return { src: formatAddress(ip.src), dst: formatAddress(ip.dst), udp: transport.udp };
}

test("UDP ASSOCIATE: datagrams leave as IP/UDP from the entrance's address, replies come back with their source", async () => {
  const { port, relay, proxy, proxyPort } = await setUp();
  const { control, relayPort } = await associate(proxyPort);
  const client = udpClient();
  try {
    const header = encodeUdpHeader({ address: "198.19.0.10", port: 7 });
    client.socket.send(Buffer.concat([header, Buffer.from("ping")]), relayPort, "127.0.0.1");
    await until(() => port.sent.length === 1, 5_000, "the packet on the link");
    const out = sentUdp(port, 0);
    assert.equal(out.src, ENTRANCE);
    assert.equal(out.dst, "198.19.0.10");
    assert.equal(out.udp.dstPort, 7);
    assert.equal(out.udp.payload.toString(), "ping");

    port.receive([
      buildUdpPacket({
        src: parseAddress("198.19.0.10"),
        dst: parseAddress(ENTRANCE),
        srcPort: 7,
        dstPort: out.udp.srcPort,
        payload: Buffer.from("pong"),
      }),
    ]);
    await until(() => client.received.length === 1, 5_000, "the relayed reply");
    const reply = client.received[0]!;
    const parsed = parseUdpHeader(reply);
    assert.notEqual(typeof parsed, "string");
    if (typeof parsed === "string") return;
    assert.deepEqual(parsed.target, { kind: "address", address: "198.19.0.10", port: 7 });
    assert.equal(reply.subarray(parsed.dataOffset).toString(), "pong");

    // Fragments, garbage and another local sender are dropped and counted, never sent.
    const fragment = Buffer.concat([header, Buffer.from("x")]);
    fragment[2] = 1;
    client.socket.send(fragment, relayPort, "127.0.0.1");
    client.socket.send(Buffer.from([1, 2]), relayPort, "127.0.0.1");
    const other = udpClient();
    other.socket.send(Buffer.concat([header, Buffer.from("intruder")]), relayPort, "127.0.0.1");
    await until(() => relay.counters.dropped === 3, 5_000, "three drops");
    assert.equal(port.sent.length, 1);
    other.socket.close();
  } finally {
    client.socket.close();
    control.destroy();
    await proxy.close();
    relay.close();
  }
});

test("UDP ASSOCIATE: a name is resolved by a query to the DNS stub over the packet path", async () => {
  const { port, relay, proxy, proxyPort } = await setUp();
  const { control, relayPort } = await associate(proxyPort);
  const client = udpClient();
  try {
    const name = Buffer.from("echo.test");
    const header = Buffer.concat([Buffer.from([0, 0, 0, 3, name.length]), name, Buffer.from([0, 7])]);
    client.socket.send(Buffer.concat([header, Buffer.from("hi")]), relayPort, "127.0.0.1");
    await until(() => port.sent.length === 1, 5_000, "the DNS query");
    const query = sentUdp(port, 0);
    assert.equal(query.dst, STUB);
    assert.equal(query.udp.dstPort, 53);
    const question = decode(query.udp.payload);
    assert.deepEqual(question.questions[0], { name: "echo.test", type: "A", class: "IN" });
    const answer = encode({
      type: "response",
      id: question.id,
      flags: 0x8180,
      questions: question.questions,
      answers: [{ type: "A", name: "echo.test", ttl: 60, data: "198.19.0.20" }],
    });
    port.receive([
      buildUdpPacket({
        src: parseAddress(STUB),
        dst: parseAddress(ENTRANCE),
        srcPort: 53,
        dstPort: query.udp.srcPort,
        payload: answer,
      }),
    ]);
    await until(() => port.sent.length === 2, 5_000, "the datagram to the resolved address");
    const out = sentUdp(port, 1);
    assert.equal(out.dst, "198.19.0.20");
    assert.equal(out.udp.payload.toString(), "hi");
  } finally {
    client.socket.close();
    control.destroy();
    await proxy.close();
    relay.close();
  }
});

test("the association ends with its control connection: later replies to its port are unmatched", async () => {
  const { port, relay, proxy, proxyPort } = await setUp();
  const { control, relayPort } = await associate(proxyPort);
  const client = udpClient();
  try {
    client.socket.send(
      Buffer.concat([encodeUdpHeader({ address: "198.19.0.10", port: 7 }), Buffer.from("a")]),
      relayPort,
      "127.0.0.1",
    );
    await until(() => port.sent.length === 1, 5_000, "the packet");
    const sourcePort = sentUdp(port, 0).udp.srcPort;
    control.destroy();
    const reply = buildUdpPacket({
      src: parseAddress("198.19.0.10"),
      dst: parseAddress(ENTRANCE),
      srcPort: 7,
      dstPort: sourcePort,
      payload: Buffer.from("late"),
    });
    await until(() => relay.associations === 0, 5_000, "the association to end");
    port.receive([reply]);
    assert.equal(relay.counters.unmatched, 1);
    assert.equal(relay.counters.received, 0);
  } finally {
    client.socket.close();
    await proxy.close();
    relay.close();
  }
});

test("a client that names its port in the request: datagrams from any other port are dropped, even first", async () => {
  const { port, relay, proxy, proxyPort } = await setUp();
  const client = udpClient();
  client.socket.bind(0, "127.0.0.1");
  await once(client.socket, "listening");
  const { control, relayPort } = await associate(proxyPort, client.socket.address().port);
  const squatter = udpClient();
  try {
    const datagram = Buffer.concat([encodeUdpHeader({ address: "198.19.0.10", port: 7 }), Buffer.from("x")]);
    squatter.socket.send(datagram, relayPort, "127.0.0.1");
    await until(() => relay.counters.dropped === 1, 5_000, "the squatter's datagram dropped");
    client.socket.send(datagram, relayPort, "127.0.0.1");
    await until(() => port.sent.length === 1, 5_000, "the client's datagram sent");
  } finally {
    squatter.socket.close();
    client.socket.close();
    control.destroy();
    await proxy.close();
    relay.close();
  }
});
