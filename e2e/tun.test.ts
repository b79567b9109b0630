// The TUN device against the real kernel, inside a network namespace made for this run.
//
// A child process in the namespace (e2e/netns/tun-harness.ts) opens the TUN with our addon and
// configures it with LinuxInterface; this test drives it over stdio. Real tools in the namespace
// (ping, ping -6, bash's /dev/tcp, a UDP socket, dig) send traffic into the routed prefixes.
// Every packet read must parse with the packet views and pass its checksums; the test answers
// with packets built by the packet views (echo replies, TCP RST, UDP echo, a DNS answer) and
// checks that the tools in the namespace received them. Finally close() must let the child exit.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildIcmpEchoPacket,
  buildTcpPacket,
  buildUdpPacket,
  formatAddress,
  Icmpv4Type,
  Icmpv6Type,
  parseAddress,
  parseIp,
  parseTransport,
  TcpFlag,
  type IpView,
  type TransportView,
} from "../src/helper/engines/packet/index.js";
import { describeResult, TunHarness, type NetworkNamespace } from "./netns/index.js";
import { inAddonLab } from "./netns/addon-lab.js";
import { oneShot } from "./netns/child-rpc.js";
import type { UdpPeerCommands } from "./netns/udp-peer.js";

const UDP_PEER = oneShot<UdpPeerCommands>("e2e/netns/udp-peer.ts");

// Only 198.18.0.0/15 and 2001:db8::/32, as everywhere in the tests.
const TUN_CONFIG = {
  name: "bh0",
  mtu: 1500,
  addresses: ["198.18.0.1/30", "2001:db8:1::1/64"],
  routes: ["198.19.0.0/24", "2001:db8:2::/64"],
};
const PING_V4 = "198.19.0.1";
const PING_V6 = "2001:db8:2::1";
const TCP_V4 = "198.19.0.80";
const TCP_V6 = "2001:db8:2::80";
const UDP_ECHO_V4 = "198.19.0.7";
const UDP_ECHO_V6 = "2001:db8:2::7";
const UDP_ECHO_PORT = 7;
const DNS_SERVER = "198.19.0.53";
const DNS_NAME = "example.test";
const DNS_ANSWER = "198.19.0.10";
const DISCARD_V4 = "198.19.0.9";
const DISCARD_PORT = 9;
/** Datagrams queued while reading is paused: more than one batch (256), less than the TUN queue (500). */
const BURST = 300;
const MAX_BATCH = 256;

/** Names the kind of packet, for the per-protocol counts. */
function kindOf(ip: IpView, transport: TransportView): string {
  const v = ip.version;
  switch (transport.kind) {
    case "icmp": {
      const echo = v === 4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST;
      return transport.icmp.type === echo
        ? `icmpv${v} echo request`
        : `icmpv${v} type ${transport.icmp.type}`;
    }
    case "tcp":
      return transport.tcp.syn && !transport.tcp.hasAck ? `tcpv${v} syn` : `tcpv${v}`;
    case "udp":
      if (transport.udp.dstPort === 53) return `udpv${v} dns`;
      return transport.udp.dstPort === DISCARD_PORT ? `udpv${v} discard` : `udpv${v}`;
    case "other":
      return `ipv${v} protocol ${transport.protocol}`;
  }
}

/** The QNAME and QTYPE of a single-question DNS query, or undefined. */
function dnsQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    if (length > 63 || offset + 1 + length > query.length) return undefined;
    labels.push(query.toString("latin1", offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  if (offset + 5 > query.length) return undefined;
  return { name: labels.join("."), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

/** A minimal DNS response: the query's question and one A record pointing back at it. */
function dnsAnswer(query: Buffer, address: string): Buffer | undefined {
  const question = dnsQuestion(query);
  if (!question || question.type !== 1) return undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // id
  header.writeUInt16BE(0x8180 | (query.readUInt16BE(2) & 0x0100), 2); // QR, RA, copy RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(1, 6); // ANCOUNT
  const record = Buffer.alloc(12);
  record.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  record.writeUInt16BE(1, 2); // A
  record.writeUInt16BE(1, 4); // IN
  record.writeUInt32BE(60, 6); // TTL
  record.writeUInt16BE(4, 10);
  return Buffer.concat([header, query.subarray(12, question.end), record, parseAddress(address)]);
}

/** Checks every packet read from the TUN and builds the replies the far side would send. */
class Responder {
  readonly problems: string[] = [];
  readonly kinds = new Map<string, number>();
  readonly dnsNames: string[] = [];
  packetsRead = 0;
  batches = 0;
  largestBatch = 0;

  handleBatch(packets: Buffer[]): Buffer[] {
    this.batches++;
    this.largestBatch = Math.max(this.largestBatch, packets.length);
    const replies: Buffer[] = [];
    for (const packet of packets) {
      this.packetsRead++;
      const reply = this.handle(packet);
      if (reply) replies.push(reply);
    }
    return replies;
  }

  count(kind: string): number {
    return this.kinds.get(kind) ?? 0;
  }

  private handle(packet: Buffer): Buffer | undefined {
    let ip: IpView;
    let transport: TransportView;
    try {
      ip = parseIp(packet);
      transport = parseTransport(ip);
    } catch (error) {
      this.problems.push(`unparsable packet ${packet.toString("hex")}: ${String(error)}`);
      return undefined;
    }
    const kind = kindOf(ip, transport);
    this.kinds.set(kind, this.count(kind) + 1);
    const where = `${kind} ${formatAddress(ip.src)} -> ${formatAddress(ip.dst)}`;
    if (!ip.verifyHeaderChecksum()) this.problems.push(`bad IPv4 header checksum: ${where}`);
    const checksumOk =
      transport.kind === "tcp"
        ? transport.tcp.verifyChecksum(ip)
        : transport.kind === "udp"
          ? transport.udp.verifyChecksum(ip)
          : transport.kind === "icmp"
            ? transport.icmp.verifyChecksum(ip)
            : true;
    if (!checksumOk) this.problems.push(`bad ${transport.kind} checksum: ${where}`);
    if (transport.kind === "other") this.problems.push(`unexpected protocol: ${where}`);
    return checksumOk ? this.reply(ip, transport) : undefined;
  }

  private reply(ip: IpView, transport: TransportView): Buffer | undefined {
    const back = { src: ip.dst, dst: ip.src };
    if (transport.kind === "icmp") {
      const { icmp } = transport;
      const echo = ip.version === 4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST;
      if (icmp.type !== echo) return undefined; // e.g. the kernel's own MLD reports
      return buildIcmpEchoPacket({
        ...back,
        kind: "reply",
        identifier: icmp.identifier,
        sequence: icmp.sequence,
        payload: icmp.payload,
      });
    }
    if (transport.kind === "tcp") {
      const { tcp } = transport;
      if (!tcp.syn || tcp.hasAck) return undefined;
      // Refuse the connection, as a host with a closed port would.
      return buildTcpPacket({
        ...back,
        srcPort: tcp.dstPort,
        dstPort: tcp.srcPort,
        seq: 0,
        ack: (tcp.seq + 1) >>> 0,
        flags: TcpFlag.RST | TcpFlag.ACK,
        window: 0,
      });
    }
    if (transport.kind === "udp") {
      const { udp } = transport;
      let payload: Buffer | undefined;
      if (udp.dstPort === UDP_ECHO_PORT) {
        payload = Buffer.concat([Buffer.from("echo: "), udp.payload]);
      } else if (udp.dstPort === 53) {
        const question = dnsQuestion(udp.payload);
        if (question) this.dnsNames.push(question.name);
        payload = dnsAnswer(udp.payload, DNS_ANSWER);
      }
      if (!payload) return undefined;
      return buildUdpPacket({ ...back, srcPort: udp.dstPort, dstPort: udp.srcPort, payload });
    }
    return undefined;
  }
}

function parsePing(stdout: string): { transmitted: number; received: number } {
  const match = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  assert.ok(match, `no ping summary in:\n${stdout}`);
  return { transmitted: Number(match[1]), received: Number(match[2]) };
}

async function ping(ns: NetworkNamespace, target: string): Promise<void> {
  const args = [...(target.includes(":") ? ["-6"] : []), "-n", "-c", "3", "-i", "0.2", "-W", "2", target];
  const result = await ns.run("ping", args, { timeoutMs: 10_000 });
  assert.equal(result.code, 0, describeResult("ping", args, result));
  assert.deepEqual(parsePing(result.stdout), { transmitted: 3, received: 3 }, result.stdout);
}

async function tcpConnect(ns: NetworkNamespace, target: string): Promise<void> {
  const args = ["-c", `exec 3<>/dev/tcp/${target}/80`];
  const result = await ns.run("bash", args, { timeoutMs: 10_000 });
  assert.notEqual(result.code, 0, describeResult("bash", args, result));
  // Refused quickly (by our RST), not timed out: the written TCP packet reached the socket.
  assert.match(result.stderr, /Connection refused/, describeResult("bash", args, result));
}

async function udpExchange(ns: NetworkNamespace, target: string, message: string): Promise<void> {
  const args = { host: target, port: UDP_ECHO_PORT, message, timeoutMs: 5_000 };
  const received = await UDP_PEER.call(ns, "exchange", args, 15_000);
  assert.deepEqual(received, { from: target, port: UDP_ECHO_PORT, payload: `echo: ${message}` });
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function dig(ns: NetworkNamespace): Promise<void> {
  const args = [`@${DNS_SERVER}`, DNS_NAME, "A", "+time=2", "+tries=1", "+short"];
  const result = await ns.run("dig", args, { timeoutMs: 10_000 });
  assert.equal(result.code, 0, describeResult("dig", args, result));
  assert.equal(result.stdout.trim(), DNS_ANSWER, describeResult("dig", args, result));
}

test(
  "TUN device: reads real traffic in a namespace and writes replies back",
  { timeout: 120_000 },
  inAddonLab({ tun: true, tools: ["ping", "dig", "bash"] }, async (lab, t) => {
    const ns = await lab.createNamespace("tun");

    const harness = TunHarness.start(ns);
    const responder = new Responder();
    const writes: Promise<number>[] = [];
    harness.onPackets((packets) => {
      const replies = responder.handleBatch(packets);
      if (replies.length > 0) writes.push(harness.write(replies));
    });
    const name = await harness.open(TUN_CONFIG);
    assert.equal(name, TUN_CONFIG.name);

    await t.test("ping and ping -6 get echo replies", async () => {
      await ping(ns, PING_V4);
      await ping(ns, PING_V6);
    });
    await t.test("TCP connects are refused by a written RST", async () => {
      await tcpConnect(ns, TCP_V4);
      await tcpConnect(ns, TCP_V6);
    });
    await t.test("a UDP socket in the namespace receives the written reply", async () => {
      await udpExchange(ns, UDP_ECHO_V4, "hello over IPv4");
      await udpExchange(ns, UDP_ECHO_V6, "hello over IPv6");
    });
    await t.test("dig gets the written DNS answer", async () => {
      await dig(ns);
      assert.ok(
        responder.dnsNames.includes(DNS_NAME),
        `DNS questions seen: ${responder.dnsNames.join(", ")}`,
      );
    });

    await t.test("a burst queued while paused is read in batches of at most 256", async () => {
      await harness.pause();
      const script = `for i in $(seq ${BURST}); do printf 'burst %d' "$i" > /dev/udp/${DISCARD_V4}/${DISCARD_PORT}; done`;
      const sent = await ns.run("bash", ["-c", script], { timeoutMs: 10_000 });
      assert.equal(sent.code, 0, describeResult("bash", ["-c", script], sent));
      assert.equal(responder.count("udpv4 discard"), 0, "nothing is read while paused");
      await harness.resume();
      await waitFor(() => responder.count("udpv4 discard") >= BURST, 10_000, `${BURST} datagrams`);
      assert.equal(responder.count("udpv4 discard"), BURST);
      assert.equal(responder.largestBatch, MAX_BATCH, "one wakeup drains up to the batch limit");
    });

    await t.test("every packet parsed, every checksum verified, each kind seen", async (t) => {
      const written = (await Promise.all(writes)).reduce((sum, count) => sum + count, 0);
      assert.deepEqual(responder.problems, []);
      const kinds = Object.fromEntries(responder.kinds);
      t.diagnostic(
        `${responder.packetsRead} packets in ${responder.batches} batches: ${JSON.stringify(kinds)}`,
      );
      for (const kind of ["icmpv4 echo request", "icmpv6 echo request"]) {
        assert.ok(responder.count(kind) >= 3, `${kind}: ${JSON.stringify(kinds)}`);
      }
      for (const kind of ["tcpv4 syn", "tcpv6 syn", "udpv4", "udpv6", "udpv4 dns"]) {
        assert.ok(responder.count(kind) >= 1, `${kind}: ${JSON.stringify(kinds)}`);
      }
      assert.ok(responder.batches >= 1 && responder.batches <= responder.packetsRead);

      const stats = await harness.stats();
      assert.equal(stats.packetsIn, responder.packetsRead, "packetsIn counts every packet delivered");
      assert.equal(stats.packetsOut, written, "packetsOut counts every packet written");
      assert.ok(stats.bytesIn > 0 && stats.bytesOut > 0);
      assert.equal(stats.writeDrops, 0);
      assert.equal(stats.readErrors, 0);
      assert.deepEqual(harness.deviceErrors, []);
    });

    await t.test("close() removes the interface and lets the process exit", async () => {
      await harness.close();
      const exit = await harness.waitForExit(10_000);
      assert.deepEqual(exit, { code: 0, signal: null }, harness.stderrText);
      const link = await ns.run("ip", ["link", "show", "dev", TUN_CONFIG.name]);
      assert.notEqual(link.code, 0, "the TUN interface is gone once its fd is closed");
    });
  }),
);
