// What gets advertised: filtering, merging, the user's includes and excludes (with the split of
// a wider prefix around an exclude, as an example and as a property), and input validation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { advertisableRoutes, isSplitDefault } from "./advertise.js";
import {
  containsAddress,
  formatAddress,
  lastAddress,
  parsePrefix,
} from "../../../helper/engines/routes/cidr.js";
import type { Prefix } from "../../../helper/engines/routes/cidr.js";
import { TEN_EIGHT_WITHOUT_10_1_2, assertCidrError, route } from "./test-helpers.js";
import type { RouteEntry } from "../../../helper/engines/routes/types.js";

describe("advertisableRoutes", () => {
  it("drops what another host cannot route here, and keeps host routes to other hosts", () => {
    const entries = [
      route("0.0.0.0/0", "en0", "192.168.1.1"),
      route("::/0", "en0", "fe80::1"),
      route("0.0.0.0/8", "en0"),
      route("127.0.0.0/8", "lo0"),
      route("169.254.0.0/16", "en0"),
      route("169.254.169.254/32", "en0"),
      route("224.0.0.0/4", "en0"),
      route("239.255.255.250/32", "en0"),
      route("255.255.255.255/32", "en0"),
      route("::/128", "lo0"),
      route("::1/128", "lo0"),
      route("fe80::/64", "en0"),
      route("ff02::/16", "en0"),
      route("10.212.134.17/32", "utun4"),
      route("203.0.113.9/32", "en0", "192.168.1.1"),
      route("10.212.134.17/32", "utun4", null, "local"),
    ];
    assert.deepEqual(advertisableRoutes(entries), [route("203.0.113.9/32", "en0", "192.168.1.1")]);
  });

  it("never advertises the routes into this computer's own entrances (another session's remote)", () => {
    const entries = [
      route("192.168.1.0/24", "en0", null, "connected"),
      route("198.18.92.0/24", "bhl1"),
      route("100.87.54.4/30", "bhl1", null, "connected"),
      route("fd62:6b68:6c01:1::/64", "bhl1", null, "connected"),
      route("198.18.93.0/24", "bhlx"),
      route("198.18.94.0/24", "bh0"),
    ];
    assert.deepEqual(advertisableRoutes(entries), [
      route("192.168.1.0/24", "en0", null, "connected"),
      route("198.18.93.0/24", "bhlx"),
      route("198.18.94.0/24", "bh0"),
    ]);
    assert.deepEqual(advertisableRoutes(entries, { include: ["198.18.92.0/24"] }).at(1)?.source, "user");
  });

  it("merges duplicates and contained prefixes into the widest, preferring the route table's entry", () => {
    const entries = [
      route("192.168.1.0/24", "en0", null, "connected"),
      route("fd00::/64", "en0"),
      route("10.100.0.0/24", "wg0", null, "connected"),
      route("192.168.1.0/24", "en0"),
      route("10.0.0.0/8", "wg0", "10.100.0.1"),
      route("10.0.0.0/8", "wg1"),
      route("192.168.1.1/32", "en0"),
      route("172.16.0.0/12", "utun4"),
    ];
    assert.deepEqual(advertisableRoutes(entries), [
      route("10.0.0.0/8", "wg0", "10.100.0.1"),
      route("172.16.0.0/12", "utun4"),
      route("192.168.1.0/24", "en0"),
      route("fd00::/64", "en0"),
    ]);
  });

  it("splits an advertised prefix around an exclude inside it", () => {
    const entries = [route("10.0.0.0/8", "utun4", "10.212.0.1"), route("192.168.1.0/24", "en0")];
    const pieces = advertisableRoutes(entries, { exclude: ["10.1.2.0/24"] });
    assert.deepEqual(
      pieces.map((entry) => entry.prefix),
      [...TEN_EIGHT_WITHOUT_10_1_2, "192.168.1.0/24"],
    );
    // Each piece still says where its traffic goes.
    assert.deepEqual(pieces[0], route("10.0.0.0/16", "utun4", "10.212.0.1"));
  });

  it("removes an advertised prefix that an exclude covers, and ignores excludes elsewhere", () => {
    const entries = [route("10.0.0.0/8", "utun4"), route("192.168.1.0/24", "en0"), route("fd00::/64", "en0")];
    assert.deepEqual(
      advertisableRoutes(entries, { exclude: ["192.168.0.0/16", "172.16.0.0/12", "fd00::/8"] }),
      [route("10.0.0.0/8", "utun4")],
    );
  });

  it("adds the user's includes, merged with the routes like any other", () => {
    const entries = [route("10.0.0.0/8", "utun4"), route("192.168.1.0/24", "en0")];
    assert.deepEqual(
      advertisableRoutes(entries, { include: ["10.1.0.0/16", "198.18.0.0/15", "2001:db8::/32"] }),
      [
        route("10.0.0.0/8", "utun4"),
        route("192.168.1.0/24", "en0"),
        route("198.18.0.0/15", null, null, "user"),
        route("2001:db8::/32", null, null, "user"),
      ],
    );
    assert.deepEqual(advertisableRoutes(entries, { include: ["0.0.0.0/0"], exclude: ["128.0.0.0/1"] }), [
      route("0.0.0.0/1", null, null, "user"),
    ]);
    // Entries already marked as the user's are kept as given, like includes.
    assert.deepEqual(advertisableRoutes([route("0.0.0.0/0", null, null, "user")]), [
      route("0.0.0.0/0", null, null, "user"),
    ]);
  });

  it("keeps split default routes unless asked to drop them", () => {
    const entries = [
      route("0.0.0.0/1", "utun2", "10.8.0.5"),
      route("128.0.0.0/1", "utun2", "10.8.0.5"),
      route("::/1", "utun2"),
      route("8000::/1", "utun2"),
      route("192.168.0.0/24", "en0"),
    ];
    assert.deepEqual(
      advertisableRoutes(entries).map((entry) => entry.prefix),
      ["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"],
    );
    assert.deepEqual(advertisableRoutes(entries, { splitDefaults: "drop" }), [
      route("192.168.0.0/24", "en0"),
    ]);
    assert.deepEqual(
      entries.map((entry) => isSplitDefault(entry.prefix)),
      [true, true, true, true, false],
    );
  });

  it("names the include or exclude that is wrong, and why", () => {
    assertCidrError(
      () => advertisableRoutes([], { include: ["10.0.0.0/8", "10.1.2.3/16"] }),
      "10.1.2.3/16",
      /10\.1\.0\.0\/16/,
    );
    assertCidrError(() => advertisableRoutes([], { exclude: ["10.0.0.0/40"] }), "10.0.0.0/40", /over 32/);
    assertCidrError(() => advertisableRoutes([], { include: ["127.0.0.0/8"] }), "127.0.0.0/8", /loopback/);
    assertCidrError(() => advertisableRoutes([], { include: ["fe80::/64"] }), "fe80::/64", /link-local/);
    assertCidrError(() => advertisableRoutes([], { include: ["239.1.1.1"] }), "239.1.1.1", /multicast/);
    assertCidrError(() => advertisableRoutes([route("10.0.0.1/8", "en0")]), "10.0.0.1/8", /host bits/);
  });
});

const CORPORATE_V4 = parsePrefix("10.0.0.0/8");
const DOCUMENTATION_V6 = parsePrefix("2001:db8::/32");

/** A prefix inside `outer`, from a random address in it and a random length no wider than it. */
function prefixInside(outer: Prefix, maxLength: number): fc.Arbitrary<Prefix> {
  const width = outer.family === 4 ? 32 : 128;
  return fc
    .record({
      address: fc.bigInt({ min: outer.network, max: lastAddress(outer) }),
      length: fc.integer({ min: outer.length, max: Math.min(maxLength, width) }),
    })
    .map(({ address, length }) => {
      const host = (1n << BigInt(width - length)) - 1n;
      return { family: outer.family, network: address & ~host, length };
    });
}

function cidr(prefix: Prefix): string {
  return `${formatAddress(prefix.network, prefix.family)}/${prefix.length}`;
}

const arbitraryTable = fc
  .constantFrom(CORPORATE_V4, DOCUMENTATION_V6)
  .chain((outer) =>
    fc.record({
      routes: fc.array(prefixInside(outer, outer.length + 24), { minLength: 1, maxLength: 5 }),
      excludes: fc.array(prefixInside(outer, outer.length + 28), { maxLength: 4 }),
      samples: fc.array(fc.bigInt({ min: outer.network, max: lastAddress(outer) }), {
        minLength: 20,
        maxLength: 40,
      }),
    }),
  )
  .map(({ routes, excludes, samples }) => {
    // Probe the edges of every prefix and exclude too, where off-by-one errors live.
    const edges = [...routes, ...excludes].flatMap((prefix) => [
      prefix.network,
      lastAddress(prefix),
      prefix.network - 1n,
      lastAddress(prefix) + 1n,
    ]);
    return { routes, excludes, samples: [...samples, ...edges] };
  });

describe("advertisableRoutes with excludes (property)", () => {
  it("advertises every routed address that is not excluded, no excluded one, without overlaps", () => {
    fc.assert(
      fc.property(arbitraryTable, ({ routes, excludes, samples }) => {
        const entries: RouteEntry[] = routes.map((prefix) => route(cidr(prefix), "utun4"));
        const advertised = advertisableRoutes(entries, { exclude: excludes.map(cidr) }).map((entry) =>
          parsePrefix(entry.prefix),
        );
        const family = routes[0]?.family ?? 4;
        for (const address of samples) {
          const routed = routes.some((prefix) => containsAddress(prefix, family, address));
          const excluded = excludes.some((prefix) => containsAddress(prefix, family, address));
          const covered = advertised.some((prefix) => containsAddress(prefix, family, address));
          assert.equal(covered, routed && !excluded, `address ${formatAddress(address, family)}`);
        }
        for (const [index, prefix] of advertised.entries()) {
          const next = advertised[index + 1];
          if (next !== undefined) assert.ok(lastAddress(prefix) < next.network, "overlapping or unsorted");
        }
      }),
      { numRuns: 300 },
    );
  });
});
