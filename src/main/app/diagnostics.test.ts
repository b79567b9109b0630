import assert from "node:assert/strict";
import { test } from "node:test";
import {
  diagnose,
  parseIpRouteGet,
  suggestedPrefix,
  type DiagnoseContext,
  type DiagnoseProbes,
} from "./diagnostics.js";

const context: DiagnoseContext = {
  advertised: ["198.19.0.0/16", "198.19.1.0/24", "2001:db8:19::/48"],
  excludes: ["198.19.9.0/24"],
  allowLocal: false,
  connected: true,
};

function probes(overrides: Partial<DiagnoseProbes> = {}): DiagnoseProbes {
  let clock = 0;
  return {
    lookup: () => Promise.resolve(["198.19.1.10", "2001:db8:19:1::10"]),
    route: () => Promise.resolve({ interface: "veth-s", gateway: null }),
    connect: () => Promise.resolve(),
    localAddresses: () => ["198.19.0.1"],
    now: () => (clock += 1.5),
    ...overrides,
  };
}

/** A probe that fails as Node's own do: an Error carrying the system's code. */
function failing(message: string, code: string): () => Promise<never> {
  return () => Promise.reject(Object.assign(new Error(message), { code }));
}

test("a reachable name: its answer, the longest covering prefix, the route, a connect", async () => {
  const result = await diagnose({ host: "host.corp.test", port: 80 }, context, probes());
  assert.deepEqual(result.dns, {
    addresses: ["198.19.1.10", "2001:db8:19:1::10"],
    error: null,
    latencyMs: 1.5,
  });
  assert.equal(result.address, "198.19.1.10");
  assert.equal(result.prefix, "198.19.1.0/24");
  assert.deepEqual(result.route, { interface: "veth-s", gateway: null });
  assert.deepEqual(result.policy, { allowed: true, reason: null });
  assert.equal(result.connect?.ok, true);
  assert.match(
    result.summary,
    /^The remote can reach host\.corp\.test:80 through 198\.19\.1\.0\/24 via veth-s/,
  );
});

test("an address is not looked up; before a connect the summary says so", async () => {
  const result = await diagnose(
    { host: "2001:db8:19:1::10", port: 443 },
    { ...context, connected: false },
    probes({ lookup: () => Promise.reject(new Error("must not be called")) }),
  );
  assert.equal(result.dns, null);
  assert.equal(result.prefix, "2001:db8:19::/48");
  assert.match(result.summary, /will, once connected, reach/);
});

test("a name that does not resolve stops there", async () => {
  const result = await diagnose(
    { host: "nope.test", port: 80 },
    context,
    probes({ lookup: failing("getaddrinfo ENOTFOUND nope.test", "ENOTFOUND") }),
  );
  assert.equal(result.address, null);
  assert.equal(result.connect, null);
  assert.equal(result.dns?.error, "getaddrinfo ENOTFOUND nope.test");
  assert.match(result.summary, /does not resolve on this computer/);
});

test("not advertised: the summary names a prefix to add", async () => {
  const result = await diagnose({ host: "10.2.3.4", port: 5432 }, context, probes());
  assert.equal(result.prefix, null);
  assert.deepEqual(result.policy, { allowed: false, reason: "not in the advertised prefixes" });
  assert.equal(result.summary, "not advertised: add 10.2.3.0/24 under Settings → Extra routes.");
});

test("an excluded address says which exclusion to remove", async () => {
  const result = await diagnose({ host: "198.19.9.9", port: 80 }, { ...context, advertised: [] }, probes());
  assert.match(result.summary, /excluded by 198\.19\.9\.0\/24: remove it under Settings → Excluded prefixes/);
});

test("this computer itself is refused unless the user allows it", async () => {
  const own = await diagnose({ host: "198.19.0.1", port: 22 }, context, probes());
  assert.equal(own.policy.allowed, false);
  assert.match(own.summary, /Allow access to this computer/);
  const loopback = await diagnose(
    { host: "127.0.0.1", port: 22 },
    { ...context, allowLocal: true },
    probes(),
  );
  assert.equal(loopback.policy.allowed, true);
  assert.match(loopback.summary, /on this computer via veth-s/);
});

test("advertised but refused by the destination: check the service", async () => {
  const result = await diagnose(
    { host: "198.19.1.10", port: 81 },
    context,
    probes({ connect: failing("connect ECONNREFUSED 198.19.1.10:81", "ECONNREFUSED") }),
  );
  assert.deepEqual(result.connect, {
    ok: false,
    latencyMs: 1.5,
    error: "connect ECONNREFUSED 198.19.1.10:81",
  });
  assert.equal(result.verdict, "refused");
  assert.match(result.summary, /^198\.19\.1\.10 refused the connection on port 81: nothing listens there/);
});

test("another failure to connect: advertised, but this computer cannot connect", async () => {
  const result = await diagnose(
    { host: "198.19.1.10", port: 81 },
    context,
    probes({ connect: failing("connect EHOSTUNREACH 198.19.1.10:81", "EHOSTUNREACH") }),
  );
  assert.equal(result.verdict, "unreachable");
  assert.match(
    result.summary,
    /advertised \(198\.19\.1\.0\/24\), but this computer cannot connect to port 81/,
  );
});

test("`ip -j route get` output and suggested prefixes", () => {
  assert.deepEqual(
    parseIpRouteGet(
      '[{"dst":"192.0.2.1","gateway":"198.18.0.1","dev":"eth0","prefsrc":"198.18.0.2","flags":[],"uid":0,"cache":[]}]',
    ),
    { interface: "eth0", gateway: "198.18.0.1" },
  );
  assert.deepEqual(parseIpRouteGet('[{"dst":"198.19.1.10","dev":"veth-s","prefsrc":"198.19.1.1"}]'), {
    interface: "veth-s",
    gateway: null,
  });
  assert.equal(parseIpRouteGet("[]"), null);
  assert.equal(suggestedPrefix("2001:db8:5:6::7"), "2001:db8:5:6::/64");
});
