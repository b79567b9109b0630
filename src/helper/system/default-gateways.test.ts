import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDefaultGateways, readDefaultGateways } from "./default-gateways.js";
import { recordingRunner } from "./testing.js";

// Recorded on a Debian 12 host (iproute2 6.1), addresses replaced by documentation ones.
const V4 = '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]\n';
const V6 = '[{"dst":"default","gateway":"fd00::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"}]\n';
// A multipath default route, as `ip -j route` prints one (iproute2 6.1).
const MULTIPATH =
  '[{"dst":"default","protocol":"static","metric":10,"flags":[],"nexthops":[{"gateway":"198.18.1.1","dev":"eth0","weight":1,"flags":[]},{"gateway":"198.18.2.1","dev":"eth1","weight":1,"flags":[]}]}]';

test("gateways of both families' default routes, multipath next hops included", async () => {
  const { run, calls } = recordingRunner((command) => ({ stdout: command.includes("-6") ? V6 : V4 }));
  assert.deepEqual(await readDefaultGateways(run), ["192.0.2.1", "fd00::1"]);
  assert.deepEqual(calls, ["ip -j -4 route show default", "ip -j -6 route show default"]);
  assert.deepEqual(parseDefaultGateways(MULTIPATH), ["198.18.1.1", "198.18.2.1"]);
  assert.deepEqual(parseDefaultGateways('[{"dst":"default","dev":"ppp0","flags":[]}]'), []);
  assert.deepEqual(parseDefaultGateways(""), []);
  assert.throws(() => parseDefaultGateways('{"dst":"default"}'), /did not print a list/);
});
