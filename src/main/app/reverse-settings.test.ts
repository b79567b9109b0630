import assert from "node:assert/strict";
import { test } from "node:test";
import type { SubnetLease } from "../broker/link-subnets.js";
import { reverseSession } from "./reverse-settings.js";

const APP_SUBNETS = { v4: "198.18.50.0/30", v6: "2001:db8:50::/64" };
const LEASED = { v4: "198.18.0.4/30", v6: "2001:db8:4::/64" };
const NONE = { remoteRoutes: [], remoteDnsDomains: [], socks: null };

/** A lease of LEASED that counts its takes and releases. */
function leases() {
  const counts = { taken: 0, released: 0 };
  const lease = (): Promise<SubnetLease> => {
    counts.taken++;
    return Promise.resolve({
      slot: 1,
      subnets: LEASED,
      release: () => Promise.resolve(void counts.released++),
    });
  };
  return { counts, lease };
}

test("without the reverse direction a session is as before: the app's subnets, no reverse, nothing leased", async () => {
  const { counts, lease } = leases();
  const reverse = await reverseSession(NONE, {
    label: "r1",
    subnets: APP_SUBNETS,
    subnetsChosen: false,
    lease,
  });
  assert.deepEqual(reverse.exit, { subnetV4: APP_SUBNETS.v4, subnetV6: APP_SUBNETS.v6 });
  assert.deepEqual(reverse.excludes, []);
  assert.equal(reverse.notice, null);
  assert.equal(counts.taken, 0);
});

test("a SOCKS port alone: the proxy with fresh credentials, every destination but the remote itself", async () => {
  const { counts, lease } = leases();
  const options = { label: "r1", subnets: APP_SUBNETS, subnetsChosen: false, lease };
  const one = await reverseSession({ ...NONE, socks: "[::1]:1081" }, options);
  const two = await reverseSession({ ...NONE, socks: "[::1]:1081" }, options);
  assert.equal(one.exit.socks?.host, "::1");
  assert.equal(one.exit.socks?.port, 1081);
  assert.notEqual(one.exit.socks?.password, two.exit.socks?.password, "each session its own credentials");
  assert.deepEqual(one.exit.reverse, { routes: [], allowLocal: false, dns: true });
  assert.equal(one.exit.remoteRoutes, undefined, "no TUN here");
  assert.equal(counts.taken, 0, "no TUN, no lease");
  assert.match(one.notice ?? "", /SOCKS5 and HTTP proxy on \[::1\]:1081/);
  assert.ok(
    one.notice?.endsWith(`socks5h://${one.exit.socks?.username}:${one.exit.socks?.password}@[::1]:1081`),
    `the user is shown the credentials, as by connect: ${one.notice}`,
  );
});

test("routes and domains: leased subnets (unless the app was given some), never advertised back", async () => {
  const { counts, lease } = leases();
  const settings = { remoteRoutes: ["198.18.91.0/24"], remoteDnsDomains: ["r1.test"], socks: null };
  const reverse = await reverseSession(settings, {
    label: "r1",
    subnets: APP_SUBNETS,
    subnetsChosen: false,
    lease,
  });
  assert.equal(counts.taken, 1);
  assert.equal(reverse.lease?.subnets, LEASED);
  assert.deepEqual(reverse.exit, {
    subnetV4: LEASED.v4,
    subnetV6: LEASED.v6,
    remoteRoutes: ["198.18.91.0/24"],
    remoteDnsDomains: ["r1.test"],
    reverse: { routes: ["198.18.91.0/24"], allowLocal: false, dns: true },
  });
  assert.deepEqual(reverse.excludes, ["198.18.91.0/24", LEASED.v4, LEASED.v6]);
  const chosen = await reverseSession(settings, {
    label: "r1",
    subnets: APP_SUBNETS,
    subnetsChosen: true,
    lease,
  });
  assert.equal(counts.taken, 1, "the app's own subnets: nothing leased");
  assert.equal(chosen.exit.subnetV4, APP_SUBNETS.v4);
});

test("a route over the leased link subnet is refused, and the lease given back", async () => {
  const { counts, lease } = leases();
  await assert.rejects(
    reverseSession(
      { ...NONE, remoteRoutes: ["198.18.0.0/24"] },
      { label: "r1", subnets: APP_SUBNETS, subnetsChosen: false, lease },
    ),
    /overlaps the session's link subnet 198\.18\.0\.4\/30/,
  );
  assert.deepEqual(counts, { taken: 1, released: 1 });
});
