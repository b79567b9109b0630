import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAddress } from "../packet/index.js";
import { EgressPolicy } from "./egress-policy.js";

const own = () => ["198.18.7.7", "2001:db8:7::7", "127.0.0.1", "::1"];

function decide(policy: EgressPolicy, address: string) {
  return policy.check(parseAddress(address));
}

test("only advertised prefixes are reachable", () => {
  const policy = new EgressPolicy({
    prefixes: ["198.19.0.0/24", "2001:db8:19::/64"],
    allowLocal: false,
    localAddresses: own,
  });
  assert.deepEqual(decide(policy, "198.19.0.10"), { allowed: true });
  assert.deepEqual(decide(policy, "2001:db8:19::10"), { allowed: true });
  assert.deepEqual(decide(policy, "198.19.1.10"), { allowed: false, reason: "not-advertised" });
  assert.deepEqual(decide(policy, "2001:db8:20::1"), { allowed: false, reason: "not-advertised" });
});

test("this computer is refused unless the user allows it, even inside an advertised prefix", () => {
  const prefixes = ["198.18.0.0/15", "2001:db8::/32"];
  const strict = new EgressPolicy({ prefixes, allowLocal: false, localAddresses: own });
  assert.deepEqual(decide(strict, "127.0.0.1"), { allowed: false, reason: "loopback" });
  assert.deepEqual(decide(strict, "::1"), { allowed: false, reason: "loopback" });
  assert.deepEqual(decide(strict, "::ffff:127.0.0.1"), { allowed: false, reason: "loopback" });
  assert.deepEqual(decide(strict, "169.254.1.1"), { allowed: false, reason: "link-local" });
  assert.deepEqual(decide(strict, "fe80::1"), { allowed: false, reason: "link-local" });
  assert.deepEqual(decide(strict, "198.18.7.7"), { allowed: false, reason: "this-computer" });
  assert.deepEqual(decide(strict, "2001:db8:7::7"), { allowed: false, reason: "this-computer" });

  const open = new EgressPolicy({ prefixes, allowLocal: true, localAddresses: own });
  for (const address of ["127.0.0.1", "::1", "198.18.7.7", "2001:db8:7::7", "169.254.1.1"]) {
    assert.deepEqual(decide(open, address), { allowed: true }, address);
  }
});

test("isThisComputer names what access to this computer opens, whichever way it is set", () => {
  for (const allowLocal of [false, true]) {
    const policy = new EgressPolicy({ prefixes: ["198.18.0.0/15"], allowLocal, localAddresses: own });
    for (const address of [
      "127.0.0.1",
      "::1",
      "::ffff:127.0.0.1",
      "169.254.1.1",
      "fe80::1",
      "198.18.7.7",
      "2001:db8:7::7",
    ])
      assert.equal(
        policy.isThisComputer(parseAddress(address)),
        true,
        `${address}, allowLocal ${allowLocal}`,
      );
    for (const address of ["198.19.0.10", "2001:db8:19::10", "224.0.0.1", "0.0.0.0"])
      assert.equal(
        policy.isThisComputer(parseAddress(address)),
        false,
        `${address}, allowLocal ${allowLocal}`,
      );
  }
});

test("never multicast, broadcast or unspecified", () => {
  const policy = new EgressPolicy({ prefixes: ["0.0.0.0/0", "::/0"], allowLocal: true, localAddresses: own });
  for (const address of ["224.0.0.1", "255.255.255.255", "0.0.0.0", "ff02::1", "::"]) {
    assert.deepEqual(decide(policy, address), { allowed: false, reason: "not-unicast" }, address);
  }
});

test("prefixes can change while running", () => {
  const policy = new EgressPolicy({ prefixes: [], allowLocal: false, localAddresses: own });
  assert.equal(decide(policy, "198.19.0.10").allowed, false);
  policy.setPrefixes(["198.19.0.0/16"]);
  assert.equal(decide(policy, "198.19.0.10").allowed, true);
});
