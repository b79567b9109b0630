// parseQuery reads the query in place: what it takes from the OPT record, and the OPT records it
// refuses (the rest of its refusals are in engine.test.ts, through the engine).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encode, type EncodableOpt } from "dns-packet";
import { parseQuery, type ParsedQuery } from "./query.js";
import { makeQuery } from "./test-support.js";
import { Rcode } from "./wire.js";

/** A query as dig sends one: RD and AD set, EDNS with a payload size and a COOKIE option. */
function digQuery(options: { payload?: number; dnssecOk?: boolean; ownerByte?: number } = {}): Buffer {
  const opt: EncodableOpt = {
    type: "OPT",
    name: ".",
    udpPayloadSize: options.payload ?? 1232,
    flags: options.dnssecOk ? 0x8000 : 0,
    options: [{ code: 10, data: Buffer.alloc(8, 0x5a) }],
  };
  const message = encode({
    type: "query",
    id: 0x4242,
    flags: 0x0120,
    questions: [{ name: "Host.Corp.Test", type: "AAAA", class: "IN" }],
    additionals: [opt],
  });
  return message;
}

/** Where the OPT record of a single-question query starts: after the header and the question. */
function optStart(message: Buffer): number {
  let at = 12;
  while (message[at] !== 0) at += 1 + (message[at] ?? 0);
  return at + 1 + 4;
}

function rejected(parsed: ParsedQuery): { rcode: number; reason: string } {
  assert.equal(parsed.kind, "reject", JSON.stringify(parsed));
  if (parsed.kind !== "reject") throw new Error("unreachable");
  return { rcode: parsed.rcode, reason: parsed.reason };
}

describe("parseQuery", () => {
  test("a dig query: its question as sent, and the OPT's payload size and DO bit", () => {
    for (const dnssecOk of [false, true]) {
      const parsed = parseQuery(digQuery({ payload: 4000, dnssecOk }));
      assert.equal(parsed.kind, "query");
      if (parsed.kind !== "query") return;
      const { query } = parsed;
      assert.equal(query.id, 0x4242);
      assert.equal(query.type, 28);
      assert.equal(query.klass, 1);
      assert.deepEqual(query.name, Buffer.from("\x04Host\x04Corp\x04Test\x00", "latin1"));
      assert.deepEqual(query.edns, { udpPayloadSize: 4000, dnssecOk });
      assert.equal(query.checkingDisabled, false);
    }
  });

  test("without an OPT record there is no EDNS; CD is read from the header", () => {
    const parsed = parseQuery(makeQuery("x.test", { checkingDisabled: true }));
    assert.equal(parsed.kind, "query");
    if (parsed.kind !== "query") return;
    assert.equal(parsed.query.edns, null);
    assert.equal(parsed.query.checkingDisabled, true);
  });

  test("an OPT record not owned by the root is FORMERR", () => {
    const message = digQuery();
    const start = optStart(message);
    // Owner "\x01a" instead of the root: one more label before the type.
    const renamed = Buffer.concat([
      message.subarray(0, start),
      Buffer.from([1, 0x61, 0]),
      message.subarray(start + 1),
    ]);
    assert.deepEqual(rejected(parseQuery(renamed)), {
      rcode: Rcode.FORMERR,
      reason: "the OPT record is not owned by the root",
    });
  });

  test("EDNS options that do not fill the OPT record exactly are FORMERR", () => {
    const message = digQuery();
    const optionLength = optStart(message) + 11 + 2;
    const tooLong = Buffer.from(message);
    tooLong.writeUInt16BE(9, optionLength);
    assert.equal(rejected(parseQuery(tooLong)).rcode, Rcode.FORMERR);
    // Three bytes of option space: too few for an option's code and length.
    const rdlength = optStart(message) + 9;
    const stub = Buffer.concat([message.subarray(0, rdlength), Buffer.from([0, 3, 0, 10, 0])]);
    assert.deepEqual(rejected(parseQuery(stub)), {
      rcode: Rcode.FORMERR,
      reason: "an EDNS option header runs past the OPT record",
    });
  });

  test("two OPT records, or an OPT record cut short, are FORMERR", () => {
    const message = digQuery();
    const opt = message.subarray(optStart(message));
    const two = Buffer.concat([message, opt]);
    two.writeUInt16BE(2, 10);
    assert.deepEqual(rejected(parseQuery(two)), {
      rcode: Rcode.FORMERR,
      reason: "2 OPT records; at most one",
    });
    const cut = message.subarray(0, message.length - 3);
    assert.match(rejected(parseQuery(cut)).reason, /^unreadable query: /);
  });
});
