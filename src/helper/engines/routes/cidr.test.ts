// Tests of the prefix arithmetic: strict parsing with useful errors, canonical formatting, and
// the subtraction that splits an advertised prefix around an excluded one (example and property).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  addressWidth,
  containsAddress,
  formatPrefix,
  lastAddress,
  parsePrefix,
  prefixOf,
  subtractAll,
  subtractPrefix,
} from "./cidr.js";
import type { Prefix } from "./cidr.js";
import { TEN_EIGHT_WITHOUT_10_1_2, assertCidrError } from "../../../main/broker/routes/test-helpers.js";

/** parsePrefix refuses `input` for `reason`. */
function assertRefused(input: string, reason: RegExp): void {
  assertCidrError(() => parsePrefix(input), input, reason);
}

describe("parsePrefix", () => {
  it("reads IPv4 and IPv6 prefixes and writes them back canonically", () => {
    for (const [input, canonical] of [
      ["10.0.0.0/8", "10.0.0.0/8"],
      ["198.18.0.0/15", "198.18.0.0/15"],
      ["0.0.0.0/0", "0.0.0.0/0"],
      ["192.0.2.7", "192.0.2.7/32"],
      ["2001:db8::/32", "2001:db8::/32"],
      ["2001:0DB8:0000::/48", "2001:db8::/48"],
      ["::/0", "::/0"],
      ["fd00::1", "fd00::1/128"],
    ]) {
      assert.equal(formatPrefix(parsePrefix(input ?? "")), canonical, input);
    }
  });

  it("says what is wrong with a prefix", () => {
    assertRefused("10.1.2.3/8", /host bits are set after \/8 \(did you mean 10\.0\.0\.0\/8\?\)/);
    assertRefused("2001:db8::1/32", /did you mean 2001:db8::\/32\?/);
    assertRefused("10.0.0.0/33", /prefix length 33 is over 32/);
    assertRefused("2001:db8::/129", /prefix length 129 is over 128/);
    assertRefused("10.0.0.0/", /prefix length must be a number/);
    assertRefused("10.0.0.0/x", /prefix length must be a number/);
    assertRefused("10/8", /"10" is not an IPv4 or IPv6 address/);
    assertRefused("256.0.0.0/8", /not an IPv4 or IPv6 address/);
    assertRefused("010.0.0.0/8", /not an IPv4 or IPv6 address/);
    assertRefused("fe80::%en0/64", /zone indexes/);
    // As strict as the link's CONFIG (shared/ip-prefix.ts): no leading zeros anywhere.
    assertRefused("::ffff:010.0.0.1/128", /not an IPv4 or IPv6 address/);
    assertRefused("10.0.0.0/08", /prefix length must be a number/);
    assertRefused("example.com", /not an IPv4 or IPv6 address/);
    assertRefused("", /not an IPv4 or IPv6 address/);
  });
});

describe("prefixOf", () => {
  it("clears host bits, as route tables and interface masks need", () => {
    assert.equal(formatPrefix(prefixOf("192.168.1.23", 24) ?? assert.fail()), "192.168.1.0/24");
    assert.equal(
      formatPrefix(prefixOf("2001:db8:4a1c:100::1a2b", 64) ?? assert.fail()),
      "2001:db8:4a1c:100::/64",
    );
    assert.equal(prefixOf("192.168.1.23", 33), null);
    assert.equal(prefixOf("link#4", 24), null);
  });
});

describe("subtractPrefix", () => {
  it("splits 10.0.0.0/8 around 10.1.2.0/24 into its covering complement", () => {
    const pieces = subtractPrefix(parsePrefix("10.0.0.0/8"), parsePrefix("10.1.2.0/24")).map(formatPrefix);
    assert.deepEqual(pieces, TEN_EIGHT_WITHOUT_10_1_2);
  });

  it("removes a prefix inside the hole, and keeps one the hole misses", () => {
    assert.deepEqual(subtractPrefix(parsePrefix("10.1.2.0/24"), parsePrefix("10.0.0.0/8")), []);
    assert.deepEqual(subtractPrefix(parsePrefix("10.1.2.0/24"), parsePrefix("10.1.2.0/24")), []);
    const lan = parsePrefix("192.168.1.0/24");
    assert.deepEqual(subtractPrefix(lan, parsePrefix("10.0.0.0/8")), [lan]);
    assert.deepEqual(subtractPrefix(lan, parsePrefix("2001:db8::/32")), [lan]);
  });

  it("splits IPv6 prefixes too", () => {
    const pieces = subtractPrefix(parsePrefix("2001:db8::/32"), parsePrefix("2001:db8:8000::/34")).map(
      formatPrefix,
    );
    assert.deepEqual(pieces, ["2001:db8::/33", "2001:db8:c000::/34"]);
  });
});

/** A prefix of `family`, any length, host bits clear. */
function arbitraryPrefix(family: 4 | 6): fc.Arbitrary<Prefix> {
  const width = addressWidth(family);
  return fc
    .record({
      address: fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }),
      length: fc.integer({ min: 0, max: width }),
    })
    .map(({ address, length }) => {
      const host = (1n << BigInt(width - length)) - 1n;
      return { family, network: address & ~host, length };
    });
}

/** A prefix inside `outer` (so that holes really cut into it), from a random address and length. */
function arbitrarySubPrefix(outer: Prefix): fc.Arbitrary<Prefix> {
  const width = addressWidth(outer.family);
  return fc
    .record({
      address: fc.bigInt({ min: outer.network, max: lastAddress(outer) }),
      length: fc.integer({ min: outer.length, max: width }),
    })
    .map(({ address, length }) => {
      const host = (1n << BigInt(width - length)) - 1n;
      return { family: outer.family, network: address & ~host, length };
    });
}

function arbitraryAddressIn(prefix: Prefix): fc.Arbitrary<bigint> {
  return fc.bigInt({ min: prefix.network, max: lastAddress(prefix) });
}

/** An original prefix, holes (most inside it), and addresses worth probing: inside, at edges, in holes. */
const arbitraryCase = fc
  .constantFrom<4 | 6>(4, 6)
  .chain((family) => arbitraryPrefix(family))
  .chain((original) =>
    fc
      .array(
        fc.oneof(
          arbitrarySubPrefix(original),
          arbitrarySubPrefix(original),
          arbitraryPrefix(original.family),
        ),
        {
          maxLength: 6,
        },
      )
      .chain((holes) =>
        fc
          .tuple(
            fc.array(arbitraryAddressIn(original), { minLength: 10, maxLength: 30 }),
            fc.tuple(...holes.map((hole) => fc.array(arbitraryAddressIn(hole), { maxLength: 4 }))),
          )
          .map(([inside, inHoles]) => {
            const max = (1n << BigInt(addressWidth(original.family))) - 1n;
            const edges = [original, ...holes].flatMap((prefix) => [
              prefix.network,
              lastAddress(prefix),
              prefix.network > 0n ? prefix.network - 1n : 0n,
              lastAddress(prefix) < max ? lastAddress(prefix) + 1n : max,
            ]);
            return { original, holes, samples: [...inside, ...inHoles.flat(), ...edges] };
          }),
      ),
  );

describe("subtractAll (property)", () => {
  it("keeps exactly the original's addresses that no hole holds, in non-overlapping prefixes", () => {
    fc.assert(
      fc.property(arbitraryCase, ({ original, holes, samples }) => {
        const pieces = subtractAll([original], holes);
        const { family } = original;
        for (const address of samples) {
          const expected =
            containsAddress(original, family, address) &&
            !holes.some((hole) => containsAddress(hole, family, address));
          const actual = pieces.some((piece) => containsAddress(piece, family, address));
          assert.equal(actual, expected, `address ${address} of ${formatPrefix(original)}`);
        }
        for (const [index, piece] of pieces.entries()) {
          const next = pieces[index + 1];
          if (next !== undefined)
            assert.ok(lastAddress(piece) < next.network, "pieces overlap or are unsorted");
        }
      }),
      { numRuns: 500 },
    );
  });
});
