import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  buildIcmpEchoPacket,
  buildIcmpErrorPacket,
  buildTcpPacket,
  buildUdpPacket,
  finishChecksum,
  foldSum,
  formatAddress,
  IcmpView,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Ipv4View,
  Ipv6View,
  PacketError,
  parseAddress,
  parseIp,
  parseTransport,
  sumWords,
  TcpFlag,
  TcpView,
  UdpView,
  type TcpOptions,
} from "./index.js";
import { FUZZ_RUNS } from "../fuzz-runs.js";

const v4Address = fc.uint8Array({ minLength: 4, maxLength: 4 });
const v6Address = fc.uint8Array({ minLength: 16, maxLength: 16 });
const addressPair = fc.oneof(fc.tuple(v4Address, v4Address), fc.tuple(v6Address, v6Address));
const port = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const payload = fc.uint8Array({ maxLength: 1500 });

const tcpOptions: fc.Arbitrary<TcpOptions> = fc.record(
  {
    mss: fc.integer({ min: 0, max: 0xffff }),
    windowScale: fc.integer({ min: 0, max: 14 }),
    sackPermitted: fc.constant(true),
    timestamp: fc.record({ value: u32, echo: u32 }),
    sackBlocks: fc.array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);

function parseBoth(packet: Buffer) {
  const ip = parseIp(packet);
  assert.ok(ip.verifyHeaderChecksum(), "IP header checksum");
  return { ip, transport: parseTransport(ip) };
}

/** Only PacketError may escape a parser, whatever the bytes. */
function expectOnlyPacketErrors(run: () => void): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof PacketError)) throw error;
  }
}

/** Runs every parser and accessor over arbitrary bytes. */
function exerciseAllParsers(bytes: Buffer): void {
  expectOnlyPacketErrors(() => {
    const ip = parseIp(bytes);
    ip.verifyHeaderChecksum();
    void ip.payload.length;
    const t = parseTransport(ip);
    if (t.kind === "tcp") {
      t.tcp.options();
      t.tcp.verifyChecksum(ip);
    } else if (t.kind === "udp") {
      t.udp.verifyChecksum(ip);
    } else if (t.kind === "icmp") {
      t.icmp.verifyChecksum(ip);
    }
  });
  expectOnlyPacketErrors(() => Ipv4View.parse(bytes).verifyHeaderChecksum());
  expectOnlyPacketErrors(() => Ipv6View.parse(bytes).payload);
  expectOnlyPacketErrors(() => {
    const tcp = TcpView.parse(bytes);
    tcp.options();
    void tcp.payload.length;
  });
  expectOnlyPacketErrors(() => UdpView.parse(bytes).payload);
  expectOnlyPacketErrors(() => IcmpView.parse(bytes, 4).payload);
}

describe("checksum", () => {
  test("matches a published IPv4 header vector", () => {
    // The classic example header with its checksum field zeroed; the right checksum is 0xb861.
    const header = Buffer.from("450000730000400040110000c0a80001c0a800c7", "hex");
    assert.equal(finishChecksum(sumWords(header, 0, header.length)), 0xb861);
    header.writeUInt16BE(0xb861, 10);
    assert.ok(Ipv4View.parse(Buffer.concat([header, Buffer.alloc(0x73 - 20)])).verifyHeaderChecksum());
  });

  test("the wide path agrees with a plain 16-bit reference at any alignment", () => {
    const reference = (b: Uint8Array, start: number, end: number): number => {
      let sum = 0;
      for (let i = start; i < end; i += 2) sum += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
      return foldSum(sum);
    };
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const backing = Buffer.from(bytes);
        const view = backing.subarray(a % 8); // shifts byteOffset to exercise misalignment
        const start = view.length === 0 ? 0 : b % view.length;
        assert.equal(foldSum(sumWords(view, start, view.length)), reference(view, start, view.length));
      }),
      { numRuns: 5_000 },
    );
  });

  test("odd lengths pad the last byte with zero", () => {
    const odd = Buffer.from([0x01, 0x02, 0x03]);
    assert.equal(sumWords(odd, 0, 3), 0x0102 + 0x0300);
  });
});

describe("round trips", () => {
  test("TCP build then parse gives back every field, options included", () => {
    fc.assert(
      fc.property(
        addressPair,
        port,
        port,
        u32,
        u32,
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.option(tcpOptions, { nil: undefined }),
        payload,
        ([src, dst], srcPort, dstPort, seq, ack, flags, window, options, data) => {
          const packet = buildTcpPacket({
            src,
            dst,
            srcPort,
            dstPort,
            seq,
            ack,
            flags,
            window,
            options,
            payload: data,
          });
          const { ip, transport } = parseBoth(packet);
          assert.equal(ip.version, src.length === 4 ? 4 : 6);
          assert.deepEqual(new Uint8Array(ip.src), src);
          assert.deepEqual(new Uint8Array(ip.dst), dst);
          assert.equal(transport.kind, "tcp");
          if (transport.kind !== "tcp") return;
          const tcp = transport.tcp;
          assert.ok(tcp.verifyChecksum(ip), "TCP checksum");
          assert.deepEqual(
            [tcp.srcPort, tcp.dstPort, tcp.seq, tcp.ack, tcp.flags, tcp.window],
            [srcPort, dstPort, seq, ack, flags, window],
          );
          assert.deepEqual(new Uint8Array(tcp.payload), data);
          const parsed = tcp.options();
          assert.equal(parsed.mss, options?.mss);
          assert.equal(parsed.windowScale, options?.windowScale);
          assert.equal(parsed.sackPermitted, options?.sackPermitted);
          assert.deepEqual(
            parsed.timestamp && { ...parsed.timestamp },
            options?.timestamp && { ...options.timestamp },
          );
          assert.deepEqual(
            parsed.sackBlocks?.map((b) => [b.left, b.right]),
            options?.sackBlocks?.map((b) => [b.left, b.right]),
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test("UDP build then parse", () => {
    fc.assert(
      fc.property(
        addressPair,
        port,
        port,
        payload,
        fc.integer({ min: 1, max: 255 }),
        ([src, dst], srcPort, dstPort, data, hopLimit) => {
          const packet = buildUdpPacket({ src, dst, srcPort, dstPort, payload: data, hopLimit });
          const { ip, transport } = parseBoth(packet);
          assert.equal(ip.hopLimit, hopLimit);
          assert.equal(transport.kind, "udp");
          if (transport.kind !== "udp") return;
          assert.ok(transport.udp.verifyChecksum(ip), "UDP checksum");
          assert.notEqual(transport.udp.checksum, 0);
          assert.deepEqual([transport.udp.srcPort, transport.udp.dstPort], [srcPort, dstPort]);
          assert.deepEqual(new Uint8Array(transport.udp.payload), data);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test("ICMP echo build then parse, both families", () => {
    fc.assert(
      fc.property(
        addressPair,
        fc.constantFrom("request" as const, "reply" as const),
        port,
        port,
        payload,
        ([src, dst], kind, identifier, sequence, data) => {
          const packet = buildIcmpEchoPacket({ src, dst, kind, identifier, sequence, payload: data });
          const { ip, transport } = parseBoth(packet);
          assert.equal(transport.kind, "icmp");
          if (transport.kind !== "icmp") return;
          const icmp = transport.icmp;
          assert.ok(icmp.verifyChecksum(ip), "ICMP checksum");
          const expected = ip.version === 4 ? (kind === "request" ? 8 : 0) : kind === "request" ? 128 : 129;
          assert.equal(icmp.type, expected);
          assert.deepEqual([icmp.identifier, icmp.sequence], [identifier, sequence]);
          assert.deepEqual(new Uint8Array(icmp.payload), data);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test("ICMP errors quote the offending packet within the minimum MTU", () => {
    fc.assert(
      fc.property(addressPair, fc.uint8Array({ maxLength: 3000 }), ([src, dst], data) => {
        const original = parseIp(buildUdpPacket({ src, dst, srcPort: 1, dstPort: 2, payload: data }));
        const v6 = original.version === 6;
        const error = buildIcmpErrorPacket({
          original,
          type: v6 ? 1 : Icmpv4Type.DEST_UNREACHABLE,
          code: v6 ? 4 : Icmpv4UnreachableCode.PORT,
        });
        const { ip, transport } = parseBoth(error);
        assert.ok(error.length <= (v6 ? 1280 : 576));
        assert.deepEqual(new Uint8Array(ip.dst), src);
        assert.deepEqual(new Uint8Array(ip.src), dst);
        assert.equal(transport.kind, "icmp");
        if (transport.kind !== "icmp") return;
        assert.ok(transport.icmp.verifyChecksum(ip));
        const quoted = transport.icmp.payload;
        assert.deepEqual(quoted, original.buf.subarray(0, quoted.length));
        assert.ok(quoted.length >= Math.min(original.buf.length, 28));
      }),
      { numRuns: 1_000 },
    );
  });

  test("IPv6 extension headers are walked to the upper layer", () => {
    fc.assert(
      fc.property(
        v6Address,
        v6Address,
        payload,
        fc.array(fc.constantFrom(0, 60, 43, 44, 51), { maxLength: 5 }),
        (src, dst, data, chain) => {
          // Hop-by-hop may only come first.
          const headers = chain.filter((h, i) => h !== 0 || i === 0);
          const udp = buildUdpPacket({ src, dst, srcPort: 53, dstPort: 5353, payload: data });
          const upper = udp.subarray(40);
          const extensions: Buffer[] = [];
          for (let i = 0; i < headers.length; i++) {
            const kind = headers[i]!;
            const next = i + 1 < headers.length ? headers[i + 1]! : 17;
            const ext = Buffer.alloc(kind === 51 ? 12 : kind === 44 ? 8 : 16);
            ext[0] = next;
            ext[1] = kind === 51 ? 1 : kind === 44 ? 0 : 1;
            extensions.push(ext);
          }
          const packet = Buffer.concat([udp.subarray(0, 40), ...extensions, upper]);
          packet[6] = headers[0] ?? 17;
          packet.writeUInt16BE(packet.length - 40, 4);
          const ip = Ipv6View.parse(packet);
          assert.equal(ip.protocol, 17);
          assert.equal(ip.payloadOffset, 40 + extensions.reduce((n, e) => n + e.length, 0));
          const last = extensions.length - 1;
          assert.equal(
            ip.nextHeaderOffset,
            last < 0 ? 6 : 40 + extensions.slice(0, last).reduce((n, e) => n + e.length, 0),
            "the Next Header field naming the upper layer",
          );
          assert.equal(packet[ip.nextHeaderOffset], 17);
          const u = UdpView.parse(ip.payload);
          assert.ok(u.verifyChecksum(ip), "UDP checksum behind extension headers");
          assert.equal(ip.isFragment, false, "an atomic fragment header is not a fragment");
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

/** `run` throws a PacketError with `code`. */
function assertPacketError(run: () => unknown, code: string, message?: string): void {
  assert.throws(run, (e: unknown) => e instanceof PacketError && e.code === code, message);
}

describe("malformed input", () => {
  const A = parseAddress("198.18.0.1");
  const B = parseAddress("198.19.0.1");

  test("typed errors for the classic mistakes", () => {
    const good = buildTcpPacket({
      src: A,
      dst: B,
      srcPort: 1,
      dstPort: 2,
      seq: 0,
      ack: 0,
      flags: TcpFlag.SYN,
      window: 100,
    });
    const cases: Array<[string, Buffer, string]> = [
      ["empty", Buffer.alloc(0), "truncated"],
      ["version 5", Buffer.from([0x50, ...good.subarray(1)]), "bad-version"],
      ["IHL 4", Buffer.from([0x44, ...good.subarray(1)]), "bad-header-length"],
      ["truncated", good.subarray(0, good.length - 1), "truncated"],
    ];
    for (const [name, bytes, code] of cases) assertPacketError(() => parseIp(bytes), code, name);
    const badOption = Buffer.from(good);
    badOption[20 + 12] = 0x60; // data offset 24: four option bytes
    badOption.writeUInt16BE(good.length + 4, 2);
    const withOption = Buffer.concat([badOption.subarray(0, 40), Buffer.from([2, 9, 0, 0])]);
    const tcp = TcpView.parse(Ipv4View.parse(withOption).payload);
    assertPacketError(() => tcp.options(), "bad-option");
  });

  test("IPv6 zero UDP checksum is invalid, IPv4 zero means none", () => {
    for (const [src, dst, ok] of [
      ["198.18.0.1", "198.19.0.1", true],
      ["2001:db8::1", "2001:db8::2", false],
    ] as const) {
      const packet = buildUdpPacket({
        src: parseAddress(src),
        dst: parseAddress(dst),
        srcPort: 1,
        dstPort: 2,
        payload: Buffer.from("x"),
      });
      const ip = parseIp(packet);
      ip.payload.writeUInt16BE(0, 6);
      assert.equal(UdpView.parse(ip.payload).verifyChecksum(ip), ok);
    }
  });

  test("fragments are refused for transport parsing", () => {
    const packet = buildUdpPacket({ src: A, dst: B, srcPort: 1, dstPort: 2 });
    packet[6] = 0x20; // MF
    assertPacketError(() => parseTransport(parseIp(packet)), "fragment");
  });

  test(`${FUZZ_RUNS} random byte strings raise nothing but PacketError in any codec`, () => {
    // Bias the first byte towards 0x4X / 0x6X so the IP parsers get past the version check.
    const bytes = fc
      .tuple(fc.constantFrom(0x45, 0x46, 0x4f, 0x60, 0x6f, 0x00, 0xff), fc.uint8Array({ maxLength: 120 }))
      .map(([first, rest]) => Buffer.from([first, ...rest]));
    fc.assert(
      fc.property(
        fc.oneof(
          bytes,
          fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
        ),
        (b) => exerciseAllParsers(b),
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  test(`${FUZZ_RUNS} mutated valid packets raise nothing but PacketError in any codec`, () => {
    const seeds: Buffer[] = [];
    for (const [s, d] of [
      ["198.18.0.1", "198.19.0.1"],
      ["2001:db8::1", "2001:db8:2::1"],
    ] as const) {
      const src = parseAddress(s);
      const dst = parseAddress(d);
      seeds.push(
        buildTcpPacket({
          src,
          dst,
          srcPort: 1,
          dstPort: 2,
          seq: 1,
          ack: 2,
          flags: TcpFlag.SYN | TcpFlag.ACK,
          window: 9,
          options: { mss: 1400, windowScale: 7, sackPermitted: true, timestamp: { value: 1, echo: 2 } },
          payload: Buffer.from("hello"),
        }),
      );
      seeds.push(buildUdpPacket({ src, dst, srcPort: 1, dstPort: 2, payload: Buffer.from("datagram") }));
      seeds.push(
        buildIcmpEchoPacket({
          src,
          dst,
          kind: "request",
          identifier: 1,
          sequence: 2,
          payload: Buffer.from("ping"),
        }),
      );
    }
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      cut: fc.nat(),
    });
    fc.assert(
      fc.property(mutation, ({ seed, flips, cut }) => {
        const packet = Buffer.from(seeds[seed]!);
        for (const [at, value] of flips) packet[at % packet.length] = value;
        const bytes = packet.subarray(0, packet.length - (cut % 8 === 0 ? cut % packet.length : 0));
        exerciseAllParsers(bytes);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

test("addresses format and parse in both families", () => {
  assert.equal(formatAddress(parseAddress("198.18.0.1")), "198.18.0.1");
  assert.equal(formatAddress(parseAddress("2001:db8:0:0:0:0:0:1")), "2001:db8::1");
  assert.throws(() => parseAddress("not-an-ip"), PacketError);
});
