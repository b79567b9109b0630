import assert from "node:assert/strict";
import { test } from "node:test";
import { CidrError } from "./errors.js";
import {
  checkRemoteRoutes,
  parseRemoteRoutes,
  RemoteRouteError,
  remoteRouteProblem,
} from "./remote-routes.js";

const FACTS = {
  defaultGateways: ["198.18.1.1", "2001:db8:1::1"],
  linkSubnets: ["100.87.53.0/30", "fd62:6b68:6c00::/64"],
};

test("prefixes that leave this computer's own paths alone pass, normalised and once each", () => {
  assert.deepEqual(
    checkRemoteRoutes(["198.19.40.0/24", "2001:db8:40::/48", "198.19.40.0/24", "198.19.41.7"], FACTS),
    ["198.19.40.0/24", "2001:db8:40::/48", "198.19.41.7/32"],
  );
});

test("a default route, a prefix holding the default gateway, and the link subnet are refused, each said why", () => {
  assert.match(remoteRouteProblem("0.0.0.0/0", FACTS) ?? "", /default route: every connection/);
  assert.match(remoteRouteProblem("::/0", FACTS) ?? "", /default route/);
  assert.match(remoteRouteProblem("198.18.0.0/23", FACTS) ?? "", /holds 198\.18\.1\.1, the gateway/);
  assert.match(remoteRouteProblem("2001:db8::/32", FACTS) ?? "", /holds 2001:db8:1::1, the gateway/);
  assert.match(
    remoteRouteProblem("100.64.0.0/10", FACTS) ?? "",
    /overlaps the session's link subnet 100\.87\.53\.0\/30/,
  );
  assert.match(remoteRouteProblem("100.87.53.2/32", FACTS) ?? "", /overlaps the session's link subnet/);
  assert.match(remoteRouteProblem("fd62:6b68:6c00::/48", FACTS) ?? "", /link subnet fd62:6b68:6c00::\/64/);
  assert.equal(remoteRouteProblem("198.18.2.0/24", FACTS), null, "beside the gateway, not over it");
});

test("every problem is named in one error; text that is no prefix says so", () => {
  assert.throws(
    () => checkRemoteRoutes(["0.0.0.0/0", "198.19.1.0/24", "10.1.2.3/8", "nonsense"], FACTS),
    (error: unknown) => {
      assert.ok(error instanceof RemoteRouteError);
      assert.equal(error.problems.length, 3);
      assert.match(error.message, /host bits are set after \/8 \(did you mean 10\.0\.0\.0\/8\?\)/);
      assert.match(error.message, /"nonsense" is not a usable prefix/);
      return true;
    },
  );
  assert.throws(() => parseRemoteRoutes(["198.19.1.0/33"]), CidrError);
});
