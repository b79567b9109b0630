import assert from "node:assert/strict";
import { test } from "node:test";
import { reverseZones } from "./reverse-zones.js";

test("octet-aligned IPv4 prefixes are one zone each", () => {
  assert.deepEqual(reverseZones(["10.0.0.0/8", "198.19.1.0/24", "172.16.0.0/16"]), [
    "10.in-addr.arpa",
    "1.19.198.in-addr.arpa",
    "16.172.in-addr.arpa",
  ]);
});

test("a prefix between octets becomes the zones one octet down that cover exactly it", () => {
  assert.deepEqual(reverseZones(["198.18.0.0/15"]), ["18.198.in-addr.arpa", "19.198.in-addr.arpa"]);
  assert.deepEqual(reverseZones(["192.168.4.0/22"]), [
    "4.168.192.in-addr.arpa",
    "5.168.192.in-addr.arpa",
    "6.168.192.in-addr.arpa",
    "7.168.192.in-addr.arpa",
  ]);
  assert.deepEqual(reverseZones(["198.19.1.10/32"]), ["10.1.19.198.in-addr.arpa"]);
});

test("IPv6 on nibble boundaries", () => {
  assert.deepEqual(reverseZones(["2001:db8:19::/48"]), ["9.1.0.0.8.b.d.0.1.0.0.2.ip6.arpa"]);
  assert.deepEqual(reverseZones(["2001:db8::/31"]), ["8.b.d.0.1.0.0.2.ip6.arpa", "9.b.d.0.1.0.0.2.ip6.arpa"]);
  assert.deepEqual(reverseZones(["fc00::/7"]), ["c.f.ip6.arpa", "d.f.ip6.arpa"]);
});

test("duplicates and zones inside other zones are dropped; bad prefixes are left out", () => {
  assert.deepEqual(
    reverseZones(["198.19.0.0/16", "198.19.1.0/24", "198.19.0.0/16", "not a prefix", "10.1.2.3/8"]),
    ["19.198.in-addr.arpa"],
  );
});

test("a default route claims the family's whole reverse tree; a /1 is 128 zones", () => {
  assert.deepEqual(reverseZones(["0.0.0.0/0", "10.0.0.0/8", "::/0"]), ["in-addr.arpa", "ip6.arpa"]);
  const half = reverseZones(["128.0.0.0/1"]);
  assert.equal(half.length, 128);
  assert.equal(half[0], "128.in-addr.arpa");
  assert.equal(half.at(-1), "255.in-addr.arpa");
});
