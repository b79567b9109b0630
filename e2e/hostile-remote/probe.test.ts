/**
 * The remote fuzzer's matching: an answer is tied to its probe through the packet an ICMP error
 * quotes, IPv6 extension headers walked; the generator's extension headers are ones the exit's
 * own parser walks; and the oracle checks a parameter problem's pointer.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { adminProhibited, protocolUnreachable } from "../../src/helper/engines/nat/refusal.js";
import {
  buildIcmpEchoPacket,
  buildTcpPacket,
  buildUdpPacket,
  Ipv6View,
  parseAddress,
  parseIp,
  parseTransport,
  TcpFlag,
  writeIpHeader,
} from "../../src/helper/engines/packet/index.js";
import { DESTINATION_OPTIONS, HOP_BY_HOP, ROUTING, withExtensionHeaders } from "./extension-headers.js";
import { ProbeGenerator } from "./generator.js";
import { Oracle } from "./oracle.js";
import { Answer, classifyAnswer, packetKey, probeKey, type Probe } from "./probe.js";
import { Prng } from "./prng.js";

const src = Buffer.from(parseAddress("2001:db8:1:6::1"));
const dst = Buffer.from(parseAddress("2001:db8:19::10"));
const SCTP = 132;

const CHAINS = [
  [HOP_BY_HOP],
  [DESTINATION_OPTIONS],
  [ROUTING],
  [HOP_BY_HOP, DESTINATION_OPTIONS, ROUTING, DESTINATION_OPTIONS],
];

function sctpPacket(tag: number): Buffer {
  const packet = Buffer.alloc(40 + 12);
  writeIpHeader(packet, 0, { src, dst }, SCTP, 12);
  packet.writeUInt32BE(tag, 40);
  return packet;
}

const upperLayers: [string, Buffer, string][] = [
  [
    "TCP",
    buildTcpPacket({ src, dst, srcPort: 1111, dstPort: 80, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 1 }),
    probeKey("tcp", src, dst, 1111, 80),
  ],
  [
    "UDP",
    buildUdpPacket({ src, dst, srcPort: 2222, dstPort: 7, payload: Buffer.from("x") }),
    probeKey("udp", src, dst, 2222, 7),
  ],
  [
    "ICMPv6 echo",
    buildIcmpEchoPacket({ src, dst, kind: "request", identifier: 3, sequence: 4, payload: Buffer.alloc(8) }),
    probeKey("echo", src, dst, 3, 4),
  ],
  ["SCTP", sctpPacket(77), probeKey("ip132", src, dst, 77, 0)],
];

describe("the remote fuzzer's probes and their answers", () => {
  for (const [name, plain, key] of upperLayers) {
    test(`${name} behind extension headers: the exit's parser walks them, and the key and quoted key are the plain packet's`, () => {
      assert.equal(packetKey(plain), key);
      for (const chain of CHAINS) {
        const { packet, nextHeaderOffset } = withExtensionHeaders(plain, chain, new Prng(chain.length));
        const ip = parseIp(packet);
        assert.ok(ip instanceof Ipv6View);
        assert.equal(ip.protocol, plain[6], "the same upper layer");
        assert.equal(ip.nextHeaderOffset, nextHeaderOffset, "the Next Header naming it");
        assert.deepEqual(ip.payload, plain.subarray(40), "the same upper-layer bytes");
        const transport = parseTransport(ip);
        if (transport.kind === "tcp") assert.ok(transport.tcp.verifyChecksum(ip));
        if (transport.kind === "udp") assert.ok(transport.udp.verifyChecksum(ip));
        if (transport.kind === "icmp") assert.ok(transport.icmp.verifyChecksum(ip));
        assert.equal(packetKey(packet), key, `behind ${chain.join(", ")}`);
        const answer = classifyAnswer(adminProhibited(ip));
        assert.deepEqual([answer?.key, answer?.kind], [key, Answer.UNREACH], "an error quoting it matches");
      }
    });
  }

  test("a parameter problem is matched to its probe, with its pointer; ICMPv4 protocol unreachable is its own kind", () => {
    const { packet } = withExtensionHeaders(sctpPacket(9), [HOP_BY_HOP, ROUTING], new Prng(1));
    const answer = classifyAnswer(protocolUnreachable(Ipv6View.parse(packet)));
    assert.equal(answer?.key, probeKey("ip132", src, dst, 9, 0));
    assert.equal(answer?.kind, Answer.PARAM_PROBLEM);
    assert.equal(
      answer?.icmp?.pointer,
      40 + packet.readUInt8(41) * 8 + 8,
      "the Routing header's Next Header",
    );

    const gre = Buffer.alloc(24);
    writeIpHeader(gre, 0, { src: parseAddress("198.18.6.1"), dst: parseAddress("198.19.0.10") }, 47, 4);
    gre.writeUInt32BE(5, 20);
    const v4 = classifyAnswer(protocolUnreachable(parseIp(gre)));
    assert.equal(v4?.key, packetKey(gre));
    assert.equal(v4?.kind, Answer.PROTOCOL_UNREACH);
  });

  test("the oracle fails a parameter problem that points elsewhere, and settles the right one", () => {
    const { packet, nextHeaderOffset } = withExtensionHeaders(
      sctpPacket(10),
      [DESTINATION_OPTIONS],
      new Prng(2),
    );
    const probe: Probe = {
      packet,
      key: packetKey(packet) ?? null,
      accept: Answer.PARAM_PROBLEM,
      required: true,
      dials: false,
      retransmit: false,
      deadlineMs: 1_000,
      icmpError: { type: 4, code: 1, pointer: nextHeaderOffset },
      label: "SCTP behind Destination Options",
    };
    const right = classifyAnswer(protocolUnreachable(Ipv6View.parse(packet)));
    assert.ok(right);
    const wrong = { ...right, icmp: { type: 4, code: 1, pointer: 6 } };

    const failing = new Oracle(1, () => undefined);
    failing.expect(probe, 0);
    failing.settle(wrong);
    assert.match(failing.violations[0] ?? "", /pointer 6; owed ICMP type 4 code 1 pointer 40/);

    const passing = new Oracle(1, () => undefined);
    passing.expect(probe, 0);
    passing.settle(right);
    passing.sweep(Number.POSITIVE_INFINITY);
    assert.deepEqual(passing.violations, []);
    assert.equal(passing.answered, 1);
  });

  test("the generator's probes carry the key of their own packet, extension headers and other protocols included", () => {
    const generator = new ProbeGenerator(new Prng(42));
    const probes = Array.from({ length: 40 }, () => generator.batch(256)).flat();
    const keyed = probes.filter((p) => p.key !== null);
    for (const probe of keyed) assert.equal(packetKey(probe.packet), probe.key, probe.label);
    const behind = keyed.filter((p) => p.packet[0]! >> 4 === 6 && p.packet[6] !== parseIp(p.packet).protocol);
    assert.ok(behind.length > 100, `${behind.length} probes behind extension headers`);
    const other = keyed.filter((p) => p.icmpError !== undefined);
    assert.ok(other.length > 300, `${other.length} probes of other protocols`);
    assert.ok(other.some((p) => p.icmpError?.type === 4 && p.icmpError.pointer > 6));
  });
});
