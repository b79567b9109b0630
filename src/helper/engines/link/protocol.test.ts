// Tests of the shared frame definitions (src/shared/link-protocol.ts): round trips of every
// payload, validation of CONFIG and STATS, and fuzzing of every payload decoder.
import assert from "node:assert/strict";
import { isIP } from "node:net";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  Capability,
  ErrorCode,
  FrameType,
  LINK_COUNTER_NAMES,
  LinkError,
  MAX_PACKET_LENGTH,
  PROTOCOL_VERSION,
  decodeBye,
  decodeConfig,
  decodeErrorPayload,
  decodeHello,
  decodeNonce,
  decodePackets,
  decodeStats,
  encodeBye,
  encodeConfig,
  encodeErrorPayload,
  encodeFrame,
  encodeHello,
  encodeNonce,
  encodePackets,
  encodeStats,
  frameTypeName,
  isKnownFrameType,
  parseLinkConfig,
  parseStatsReport,
  readHelloVersion,
} from "../../../shared/link-protocol.js";
import type { LinkConfig, LinkCounters, StatsReport } from "../../../shared/link-protocol.js";
import { arbitraryConfig, arbitraryStats, mutatedBytes, printableText } from "./test-arbitraries.js";
import { FUZZ_RUNS } from "../fuzz-runs.js";

/** Runs `decode`; passes when it returns or throws a LinkError, fails on anything else. */
function onlyLinkErrors(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof LinkError)) throw error;
    assert.equal(error.code, "MALFORMED_PAYLOAD");
  }
}

function assertMalformed(decode: () => unknown, messagePart: string | RegExp): void {
  assert.throws(decode, (error: unknown) => {
    assert.ok(error instanceof LinkError, `expected a LinkError, got ${String(error)}`);
    assert.equal(error.code, "MALFORMED_PAYLOAD");
    if (typeof messagePart === "string") assert.ok(error.message.includes(messagePart), error.message);
    else assert.match(error.message, messagePart);
    return true;
  });
}

const baseConfig: LinkConfig = {
  subnetV4: "198.18.255.0/30",
  subnetV6: "2001:db8:ffff::/64",
  mtu: 65520,
  routes: ["198.19.0.0/16", "2001:db8:1::/48"],
  dns: { mode: "split", servers: ["198.18.255.2", "2001:db8:ffff::2"], domains: ["corp.test", "lan.test."] },
};

describe("frame header", () => {
  it("length counts the type byte and the payload", () => {
    const frame = encodeFrame(FrameType.Bye, Buffer.from("done"));
    assert.equal(frame.readUInt32BE(0), 1 + 4);
    assert.equal(frame[4], FrameType.Bye);
    assert.equal(frame.subarray(5).toString(), "done");
    assert.equal(encodeFrame(FrameType.Bye, Buffer.alloc(0)).readUInt32BE(0), 1);
  });

  it("names known and unknown types", () => {
    assert.equal(frameTypeName(FrameType.Packets), "PACKETS");
    assert.equal(frameTypeName(200), "type 200");
    assert.equal(isKnownFrameType(FrameType.Stats), true);
    assert.equal(isKnownFrameType(0), false);
  });
});

describe("round trips", () => {
  it("HELLO", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.constantFrom("entrance" as const, "exit" as const),
        fc.integer({ min: 0, max: 0xffffffff }),
        printableText(),
        (version, role, capabilities, softwareVersion) => {
          const payload = encodeHello({ version, role, capabilities, softwareVersion });
          assert.equal(readHelloVersion(payload), version);
          assert.deepEqual(decodeHello(payload), { version, role, capabilities, softwareVersion });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("PACKETS, including the largest packet", () => {
    const packet = fc.oneof(
      { weight: 20, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 1600 }) },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(MAX_PACKET_LENGTH).fill(7)) },
    );
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 40 }), (packets) => {
        const decoded = decodePackets(encodePackets(packets));
        assert.deepEqual(
          decoded.map((p) => Buffer.from(p)),
          packets.map((p) => Buffer.from(p)),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("PACKETS are views into the payload, not copies", () => {
    const payload = encodePackets([Buffer.from([1, 2, 3]), Buffer.from([4])]);
    const [first, second] = decodePackets(payload);
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(first.buffer, payload.buffer);
    assert.equal(first.byteOffset, payload.byteOffset + 2);
    assert.equal(second.byteOffset, payload.byteOffset + 7);
  });

  it("PING and PONG nonces", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (nonce) => {
        assert.equal(decodeNonce(encodeNonce(nonce), "PING"), nonce);
        assert.equal(decodeNonce(encodeNonce(nonce), "PONG"), nonce);
      }),
      { numRuns: 2000 },
    );
  });

  it("ERROR and BYE", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), printableText(), (code, text) => {
        assert.deepEqual(decodeErrorPayload(encodeErrorPayload({ code, message: text })), {
          code,
          message: text,
        });
        assert.equal(decodeBye(encodeBye(text)), text);
      }),
      { numRuns: 2000 },
    );
  });

  it("CONFIG", () => {
    fc.assert(
      fc.property(arbitraryConfig(), (config) => {
        assert.deepEqual(decodeConfig(encodeConfig(config)), config);
      }),
      { numRuns: 2000 },
    );
  });

  it("STATS", () => {
    fc.assert(
      fc.property(arbitraryStats(), (report) => {
        assert.deepEqual(decodeStats(encodeStats(report)), report);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("payload validation", () => {
  it("HELLO: too short, unknown role", () => {
    assertMalformed(() => readHelloVersion(Buffer.from([1])), "too short");
    assertMalformed(() => decodeHello(Buffer.from([0, 1, 1, 0, 0, 0])), "need at least 7");
    assertMalformed(() => decodeHello(Buffer.from([0, 1, 9, 0, 0, 0, 0])), "unknown role 9");
  });

  it("a HELLO of another version still yields its version", () => {
    assert.equal(readHelloVersion(Buffer.from([0, 2])), 2);
  });

  it("PACKETS: empty, stray byte, zero-length packet, overrun", () => {
    assertMalformed(() => decodePackets(Buffer.alloc(0)), "no packets");
    assertMalformed(() => decodePackets(Buffer.from([0, 1, 9, 0])), "stray byte at offset 3");
    assertMalformed(() => decodePackets(Buffer.from([0, 0])), "empty packet");
    assertMalformed(() => decodePackets(Buffer.from([0, 1, 9, 0, 5, 1, 2])), "overruns");
  });

  it("PING: exactly 8 bytes", () => {
    assertMalformed(() => decodeNonce(Buffer.alloc(7), "PING"), "PING");
    assertMalformed(() => decodeNonce(Buffer.alloc(9), "PONG"), "PONG");
  });

  it("ERROR: at least the code", () => {
    assertMalformed(() => decodeErrorPayload(Buffer.from([1])), "need at least 2");
    assert.deepEqual(decodeErrorPayload(Buffer.from([0, ErrorCode.VersionMismatch])), {
      code: ErrorCode.VersionMismatch,
      message: "",
    });
  });

  it("text from the peer cannot carry terminal escapes or bidi overrides", () => {
    assert.equal(decodeBye(Buffer.from("\u001b[2Jgone\u202e!")), "gone\uFFFD!");
    assert.equal(decodeBye(Buffer.from("gone\u001b]52;c;aGk=\u0007!")), "gone!", "OSC 52 removed whole");
    const error = decodeErrorPayload(Buffer.from("\u0000\u0001\u001b]52;c;aGk=\u001b\\bad\u009b2J", "utf8"));
    assert.equal(error.message, "bad");
    assert.equal(decodeBye(Buffer.from("line one\nline\ttwo")), "line one line\ttwo", "no fake second line");
    // A decoder's complaint quotes the peer's bytes (JSON.parse does): sanitised as well.
    assert.throws(
      () => decodeConfig(Buffer.from('{"a":\u001b]52;c;aGk=\u0007}')),
      (error: unknown) =>
        error instanceof LinkError && !error.message.includes("\u001b") && !error.message.includes("52;c;"),
    );
    assert.equal(decodeBye(Buffer.from([0x66, 0xff, 0x6f])), "f\uFFFDo");
  });

  it("encoders refuse values that do not fit their fields", () => {
    assert.throws(
      () => encodeHello({ version: 70000, role: "exit", capabilities: 0, softwareVersion: "" }),
      RangeError,
    );
    assert.throws(
      () => encodeHello({ version: 1, role: "exit", capabilities: -1, softwareVersion: "" }),
      RangeError,
    );
    assert.throws(() => encodePackets([]), RangeError);
    assert.throws(() => encodePackets([new Uint8Array(MAX_PACKET_LENGTH + 1)]), RangeError);
    assert.throws(() => encodeNonce(-1n), RangeError);
    assert.throws(() => encodeErrorPayload({ code: 65536, message: "" }), RangeError);
  });

  it("capability bits are distinct", () => {
    const bits = Object.values(Capability);
    assert.equal(new Set(bits).size, bits.length);
    for (const bit of bits) assert.equal(bit & (bit - 1), 0, `${bit} is one bit`);
  });

  it("CONFIG: accepts a full config and drops unknown fields", () => {
    const parsed = parseLinkConfig({ ...baseConfig, futureField: 1, dns: { ...baseConfig.dns, more: true } });
    assert.deepEqual(parsed, baseConfig);
    assert.equal("futureField" in parsed, false);
  });

  const configCases: [string, Record<string, unknown>, string][] = [
    ["not an object", { __replace: [1, 2] }, "not a JSON object"],
    ["no subnet", { subnetV4: null, subnetV6: null }, "neither subnetV4 nor subnetV6"],
    ["v6 subnet in v4 field", { subnetV4: "2001:db8::/64" }, "subnetV4"],
    ["host bits in the subnet", { subnetV4: "198.18.255.1/30" }, "host bits set"],
    ["subnet too narrow", { subnetV4: "198.18.255.0/31" }, "narrower than /30"],
    ["v6 subnet too narrow", { subnetV6: "2001:db8::/127" }, "narrower than /126"],
    ["octal-looking address", { subnetV4: "010.0.0.0/8" }, "subnetV4"],
    ["prefix over 32", { subnetV4: "198.18.0.0/33" }, "subnetV4"],
    ["prefix with leading zero", { subnetV4: "198.18.0.0/08" }, "subnetV4"],
    ["mtu not integer", { mtu: 1500.5 }, "mtu must be an integer"],
    ["mtu too large", { mtu: 65536 }, "mtu must be an integer"],
    ["mtu under IPv6 minimum", { mtu: 1000 }, "from 1280"],
    ["routes not array", { routes: "10.0.0.0/8" }, "routes is not an array"],
    ["route not string", { routes: [42] }, "routes[0] is not a string"],
    ["route not CIDR", { routes: ["10.0.0.0"] }, "routes[0]"],
    ["route host bits", { routes: ["10.1.0.0/8"] }, 'routes[0] "10.1.0.0/8" has host bits set'],
    ["v6 route without v6 subnet", { subnetV6: null, routes: ["2001:db8::/32"] }, "subnetV6 is null"],
    ["v6 route with zone", { routes: ["fe80::%eth0/64"] }, "routes[0]"],
    ["two ::", { routes: ["2001::db8::/64"] }, "routes[0]"],
    ["dns not object", { dns: "all" }, "dns is not an object"],
    ["dns mode", { dns: { mode: "everything" } }, "dns.mode"],
    ["dns no servers", { dns: { mode: "all", servers: [] } }, "dns.servers is empty"],
    ["dns bad server", { dns: { mode: "all", servers: ["resolver"] } }, "dns.servers[0]"],
    [
      "split no domains",
      { dns: { mode: "split", servers: ["198.18.255.2"], domains: [] } },
      "dns.domains is empty",
    ],
    [
      "split bad domain",
      { dns: { mode: "split", servers: ["198.18.255.2"], domains: ["bad domain"] } },
      "dns.domains[0]",
    ],
    ["too many routes", { routes: new Array(10_001).fill("10.0.0.0/8") }, "over 10000"],
  ];
  for (const [name, change, message] of configCases) {
    it(`CONFIG rejects: ${name}`, () => {
      const value = "__replace" in change ? change.__replace : { ...baseConfig, ...change };
      assertMalformed(() => parseLinkConfig(value), message);
      assertMalformed(() => decodeConfig(Buffer.from(JSON.stringify(value))), message);
    });
  }

  it("CONFIG: invalid JSON and invalid UTF-8", () => {
    assertMalformed(() => decodeConfig(Buffer.from("{")), "not JSON");
    assertMalformed(() => decodeConfig(Buffer.from([0xff, 0xfe])), "not JSON");
    assertMalformed(() => decodeConfig(Buffer.from("[".repeat(200_000))), "not JSON");
  });

  it("CONFIG: encodeConfig refuses an invalid config before it reaches the wire", () => {
    assertMalformed(() => encodeConfig({ ...baseConfig, mtu: 10 }), "mtu");
  });

  it("IP address syntax matches node:net (zone indexes excluded)", () => {
    const ipLike = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV4Extended(),
      fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/),
      fc
        .tuple(fc.ipV6(), fc.nat(), fc.constantFrom("", ":", "::", ".", "0", "%eth0", "1.2.3.4"))
        .map(([address, at, insert]) => {
          const index = at % (address.length + 1);
          return address.slice(0, index) + insert + address.slice(index);
        }),
    );
    fc.assert(
      fc.property(ipLike, (address) => {
        const value = { ...baseConfig, dns: { mode: "all", servers: [address] } };
        let accepted = true;
        try {
          parseLinkConfig(value);
        } catch (error) {
          assert.ok(error instanceof LinkError);
          accepted = false;
        }
        assert.equal(accepted, isIP(address) !== 0 && !address.includes("%"), address);
      }),
      { numRuns: 20_000 },
    );
  });

  it("STATS: rejects bad counters and names", () => {
    const good: StatsReport = {
      sentAt: 1,
      rttMs: null,
      link: Object.fromEntries(LINK_COUNTER_NAMES.map((name) => [name, 0])) as unknown as LinkCounters,
      extra: { "tun.reads": 3 },
    };
    assert.deepEqual(parseStatsReport(good), good);
    assertMalformed(() => parseStatsReport({ ...good, sentAt: "now" }), "sentAt");
    assertMalformed(() => parseStatsReport({ ...good, rttMs: -1 }), "rttMs");
    assertMalformed(() => parseStatsReport({ ...good, link: { ...good.link, bytesIn: -5 } }), "link.bytesIn");
    assertMalformed(
      () => parseStatsReport({ ...good, link: { ...good.link, framesIn: 1.5 } }),
      "link.framesIn",
    );
    assertMalformed(() => parseStatsReport({ ...good, extra: { __proto__x: 1 } }), "extra name");
    assertMalformed(() => parseStatsReport({ ...good, extra: { ok: "1" } }), "extra.ok");
    assertMalformed(() => decodeStats(Buffer.from('{"sentAt":1,"rttMs":null,"link":[],"extra":{}}')), "link");
    const parsed = decodeStats(Buffer.from(JSON.stringify({ ...good, extra: { a: 1 }, more: 2 })));
    assert.equal(Object.getPrototypeOf(parsed.extra), Object.prototype);
    assert.equal("more" in parsed, false);
  });
});

describe("fuzzing the payload decoders", () => {
  const decoders: [string, (payload: Buffer) => unknown][] = [
    ["readHelloVersion", readHelloVersion],
    ["decodeHello", decodeHello],
    ["decodePackets", decodePackets],
    ["decodeNonce", (p) => decodeNonce(p, "PING")],
    ["decodeErrorPayload", decodeErrorPayload],
    ["decodeBye", decodeBye],
    ["decodeConfig", decodeConfig],
    ["decodeStats", decodeStats],
  ];

  const validPayloadArbitrary = fc.oneof(
    fc
      .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), printableText())
      .map(([version, capabilities, softwareVersion]) =>
        encodeHello({ version, role: "exit", capabilities, softwareVersion }),
      ),
    fc
      .array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 5 })
      .map(encodePackets),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(encodeNonce),
    fc.string().map((message) => encodeErrorPayload({ code: 1, message })),
    arbitraryConfig().map(encodeConfig),
    arbitraryStats().map(encodeStats),
  );
  // Generating configs is slow next to decoding them: draw a pool once, mutate it FUZZ_RUNS ways.
  const validPayloads = fc.constantFrom(...fc.sample(validPayloadArbitrary, { numRuns: 3000, seed: 42 }));

  it(`${FUZZ_RUNS} random and mutated payloads: every decoder returns or throws a LinkError`, () => {
    let decoded = 0;
    fc.assert(
      fc.property(mutatedBytes(validPayloads), (bytes) => {
        const payload = Buffer.from(bytes);
        for (const [, decode] of decoders) {
          onlyLinkErrors(() => {
            decode(payload);
            decoded++;
          });
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
    // The mix must reach the success paths too, or the fuzzing would only test the first check.
    assert.ok(decoded > FUZZ_RUNS, `only ${decoded} successful decodes`);
  });

  it("mutated CONFIG and STATS values: rejected with a LinkError or accepted as a valid value", () => {
    const configPaths = ["subnetV4", "subnetV6", "mtu", "routes", "routes.0", "dns", "dns.mode"];
    const statsPaths = ["sentAt", "rttMs", "link", "link.bytesIn", "extra", "extra.x"];
    const paths = [
      ...configPaths,
      ...statsPaths,
      "dns.servers",
      "dns.servers.0",
      "dns.domains",
      "dns.domains.0",
    ];
    const target = fc.oneof(
      arbitraryConfig() as fc.Arbitrary<object>,
      arbitraryStats() as fc.Arbitrary<object>,
    );
    fc.assert(
      fc.property(target, fc.constantFrom(...paths), fc.jsonValue(), (value, path, replacement) => {
        const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
        setPath(copy, path.split("."), replacement);
        for (const parse of [parseLinkConfig, parseStatsReport] as const) {
          try {
            const parsed = parse(copy);
            // Whatever is accepted must be valid in its own right (compared as JSON, which has no -0).
            const json = JSON.stringify(parsed);
            assert.equal(JSON.stringify(parse(JSON.parse(json))), json);
          } catch (error) {
            if (!(error instanceof LinkError)) throw error;
          }
        }
      }),
      { numRuns: 15_000 },
    );
  });
});

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const next = target[head];
  if (typeof next === "object" && next !== null) setPath(next as Record<string, unknown>, rest, value);
}

it("protocol version is 1", () => {
  assert.equal(PROTOCOL_VERSION, 1);
});
