import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encode, type EncodableRecord } from "dns-packet";
import { presentAnswer } from "./present.js";
import { parseMessage, readName, skipName, WireFormatError } from "./wire.js";

function header(counts: [number, number, number, number]): Buffer {
  const buffer = Buffer.alloc(12);
  counts.forEach((count, index) => buffer.writeUInt16BE(count, 4 + index * 2));
  return buffer;
}

describe("names on the wire", () => {
  test("labels, pointers and escapes", () => {
    const message = Buffer.concat([
      header([0, 0, 0, 0]),
      Buffer.from([3, 0x77, 0x77, 0x77, 4, 0x63, 0x6f, 0x72, 0x70, 4, 0x74, 0x65, 0x73, 0x74, 0]),
      Buffer.from([2, 0x61, 0x2e, 1, 0x00, 0xc0, 12 + 4]),
    ]);
    assert.equal(readName(message, 12), "www.corp.test.");
    assert.equal(readName(message, 27), "a\\..\\000.corp.test.");
    assert.equal(skipName(message, 27), message.length);
    assert.equal(readName(Buffer.from([0]), 0), ".");
  });

  test("pointer loops, forward pointers, truncation and over-long names are errors", () => {
    const loop = Buffer.concat([header([0, 0, 0, 0]), Buffer.from([0xc0, 12])]);
    assert.throws(() => readName(loop, 12), WireFormatError);
    const forward = Buffer.concat([header([0, 0, 0, 0]), Buffer.from([0xc0, 14, 0])]);
    assert.throws(() => readName(forward, 12), WireFormatError);
    assert.throws(() => readName(Buffer.from([5, 0x61]), 0), WireFormatError);
    assert.throws(() => readName(Buffer.from([0x40]), 0), WireFormatError);
    const long = Buffer.concat([
      ...Array.from({ length: 5 }, () => Buffer.from([63, ...Buffer.alloc(63, 0x61)])),
      Buffer.from([0]),
    ]);
    assert.throws(() => readName(long, 0), WireFormatError);
    assert.throws(() => skipName(long, 0), WireFormatError);
  });

  test("parseMessage refuses records that run past the end", () => {
    const message = encode({
      type: "response",
      id: 1,
      questions: [{ name: "x.test", type: "A" }],
      answers: [{ type: "A", name: "x.test", ttl: 5, data: "198.18.0.1" }],
    });
    assert.equal(parseMessage(message).records.length, 1);
    for (let cut = 12; cut < message.length; cut++) {
      assert.throws(() => parseMessage(message.subarray(0, cut)), WireFormatError, `cut at ${cut}`);
    }
  });
});

describe("presentation of record data", () => {
  function present(record: EncodableRecord, questionType = record.type): string {
    const message = encode({
      type: "response",
      id: 1,
      questions: [{ name: record.name, type: "A" }],
      answers: [record],
    });
    const parsed = parseMessage(message);
    const [answer] = parsed.records;
    assert.ok(answer);
    const types: Record<string, number> = { A: 1, CNAME: 5, TXT: 16 };
    return presentAnswer(message, answer, types[questionType] ?? answer.type);
  }
  const base = { name: "r.corp.test", ttl: 60 };

  test("as dig prints them", () => {
    assert.equal(present({ ...base, type: "A", data: "198.19.0.10" }), "198.19.0.10");
    assert.equal(present({ ...base, type: "AAAA", data: "2001:db8:19:0:0:0:0:10" }), "2001:db8:19::10");
    assert.equal(present({ ...base, type: "CNAME", data: "www.s.test" }, "A"), "CNAME www.s.test.");
    assert.equal(
      present({ ...base, type: "MX", data: { preference: 10, exchange: "mail.corp.test" } }),
      "10 mail.corp.test.",
    );
    assert.equal(
      present({ ...base, type: "SRV", data: { priority: 0, weight: 5, port: 80, target: "host.corp.test" } }),
      "0 5 80 host.corp.test.",
    );
    assert.equal(
      present({ ...base, type: "TXT", data: ['v=spf1 "-all"', Buffer.from([0x61, 0x0a])] }),
      '"v=spf1 \\"-all\\"" "a\\010"',
    );
    assert.equal(
      present({ ...base, type: "CAA", data: { flags: 0, tag: "issue", value: "ca.example" } }),
      '0 issue "ca.example"',
    );
    assert.equal(
      present({
        ...base,
        type: "SOA",
        data: {
          mname: "ns1.corp.test",
          rname: "hostmaster.corp.test",
          serial: 7,
          refresh: 1200,
          retry: 180,
          expire: 1209600,
          minimum: 30,
        },
      }),
      "ns1.corp.test. hostmaster.corp.test. 7 1200 180 1209600 30",
    );
    assert.equal(present({ ...base, type: "NULL", data: Buffer.from([0xde, 0xad]) }), "\\# 2 DEAD");
    assert.equal(
      present(
        { ...base, type: "UNKNOWN_65", data: Buffer.from("0001000001000302683200", "hex") },
        "UNKNOWN_65",
      ),
      "\\# 11 0001000001000302683200",
    );
  });

  test("HINFO, NAPTR, SSHFP, TLSA, SVCB and HTTPS", () => {
    assert.equal(
      present({ ...base, type: "HINFO", data: { cpu: "x86_64", os: "Linux" } }),
      '"x86_64" "Linux"',
    );
    assert.equal(
      present({
        ...base,
        type: "NAPTR",
        data: {
          order: 100,
          preference: 10,
          flags: "S",
          services: "SIP+D2U",
          regexp: "",
          replacement: "_sip._udp.corp.test",
        },
      }),
      '100 10 "S" "SIP+D2U" "" _sip._udp.corp.test.',
    );
    assert.equal(
      present({ ...base, type: "SSHFP", data: { algorithm: 1, hash: 1, fingerprint: "ab".repeat(20) } }),
      `1 1 ${"AB".repeat(20)}`,
    );
    assert.equal(
      present({
        ...base,
        type: "TLSA",
        data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 0xcd) },
      }),
      `3 1 1 ${"CD".repeat(32)}`,
    );
    const svcParams = Buffer.concat([
      Buffer.from("0001", "hex"),
      Buffer.from([0]),
      Buffer.from("0000000400010003", "hex"),
      Buffer.from("00010006", "hex"),
      Buffer.from([2, 0x68, 0x32, 2, 0x68, 0x33]),
      Buffer.from("000300020050", "hex"),
      Buffer.from("00040008c6130001c6130002", "hex"),
      Buffer.from("000600102001", "hex"),
      Buffer.from("0db8000000000000000000000001", "hex"),
      Buffer.from("ff00000161", "hex"),
    ]);
    assert.equal(
      present({ ...base, type: "UNKNOWN_65", data: svcParams }, "UNKNOWN_65"),
      '1 . mandatory=alpn,port alpn="h2,h3" port=80 ipv4hint=198.19.0.1,198.19.0.2 ipv6hint=2001:db8::1 key65280="a"',
    );
  });

  test("inconsistent data falls back to the generic form", () => {
    assert.equal(present({ ...base, type: "NULL", data: Buffer.alloc(0) }), "\\# 0");
    const bad = encode({
      type: "response",
      id: 1,
      answers: [{ ...base, type: "NULL", data: Buffer.from([9, 0x61]) }],
    });
    bad.writeUInt16BE(16, bad.length - 12); // NULL becomes TXT, whose string length 9 runs past
    const parsed = parseMessage(bad);
    const [record] = parsed.records;
    assert.ok(record);
    assert.equal(presentAnswer(bad, record, 16), "\\# 2 0961");
  });
});
