import assert from "node:assert/strict";
import { test } from "node:test";
import { normaliseDnsDomain } from "./dns-domain.js";

test("domains are lower-cased without their final dot; what is no domain name is refused", () => {
  assert.equal(normaliseDnsDomain("Corp.Example."), "corp.example");
  assert.equal(normaliseDnsDomain("svc.cluster.local"), "svc.cluster.local");
  assert.equal(normaliseDnsDomain("_msdcs.corp.test"), "_msdcs.corp.test");
  for (const bad of ["", ".", "a..b", "-lead.test", "trail-.test", "sp ace.test", "x".repeat(64) + ".test"])
    assert.equal(normaliseDnsDomain(bad), null, JSON.stringify(bad));
});
