// The one parser of address and prefix texts: what it takes, what it refuses, and that a prefix's
// host bits are reported rather than refused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatAddress, parseAddress, parsePrefix } from "./ip-prefix.js";

describe("parseAddress", () => {
  it("takes the usual forms and nothing else", () => {
    for (const text of ["198.18.0.1", "0.0.0.0", "2001:db8::1", "::", "::ffff:198.18.0.1", "2001:DB8::A"]) {
      assert.notEqual(parseAddress(text), null, text);
    }
    for (const text of [
      "10.1",
      "010.0.0.1",
      "256.0.0.1",
      "fe80::1%en0",
      "::ffff:01.2.3.4",
      "1::2::3",
      " ::1",
      "",
    ]) {
      assert.equal(parseAddress(text), null, text);
    }
  });

  it("round-trips through the shortest form", () => {
    const address = parseAddress("2001:0db8:0000:0000:0000:0000:0000:0001") ?? assert.fail();
    assert.equal(address.family, 6);
    assert.equal(formatAddress(address.bytes), "2001:db8::1");
    assert.equal(formatAddress([198, 18, 0, 2]), "198.18.0.2");
  });
});

describe("parsePrefix", () => {
  it("reports host bits and the length", () => {
    assert.deepEqual(parsePrefix("198.18.0.1/30"), {
      ok: true,
      prefix: { family: 4, bytes: Uint8Array.from([198, 18, 0, 1]), length: 30, hostBitsClear: false },
    });
    const clear = parsePrefix("2001:db8::/32");
    assert.ok(clear.ok && clear.prefix.hostBitsClear && clear.prefix.length === 32);
  });

  it("takes a bare address only as a host prefix when asked", () => {
    assert.deepEqual(parsePrefix("198.18.0.1"), { ok: false, problem: "it has no prefix length (/N)" });
    const host = parsePrefix("2001:db8::1", { bareIsHost: true });
    assert.ok(host.ok && host.prefix.length === 128 && host.prefix.hostBitsClear);
  });

  it("says what is wrong", () => {
    const problem = (text: string): string => {
      const result = parsePrefix(text);
      return result.ok ? "accepted" : result.problem;
    };
    assert.match(problem("10.0.0.0/08"), /prefix length must be a number/);
    assert.match(problem("10.0.0.0/33"), /33 is over 32, the IPv4 maximum/);
    assert.match(problem("fe80::%en0/64"), /zone indexes/);
    assert.match(problem("example.test/8"), /"example.test" is not an IPv4 or IPv6 address/);
  });
});
