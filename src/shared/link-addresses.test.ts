// Both sides derive the entrance's TUN address and the DNS stub from the link subnet alone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { linkAddresses } from "./link-addresses.js";

test("the first host is the TUN's, the second the stub's, in both families", () => {
  assert.deepEqual(linkAddresses("198.18.0.0/30"), { tun: "198.18.0.1/30", stub: "198.18.0.2" });
  assert.deepEqual(linkAddresses("2001:db8:ff::/126"), { tun: "2001:db8:ff::1/126", stub: "2001:db8:ff::2" });
  assert.deepEqual(
    linkAddresses("198.18.0.255/32").stub,
    "198.18.1.1",
    "the count carries into the next byte",
  );
});

test("a text that is not a subnet is refused, not guessed at", () => {
  assert.throws(() => linkAddresses("198.18/30"), /not a link subnet: "198.18\/30"/);
});
