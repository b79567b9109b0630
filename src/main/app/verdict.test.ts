import assert from "node:assert/strict";
import { test } from "node:test";
import { insideRemoteNetworkRoute } from "../../shared/test-remote-route.js";
import type { RemoteDiagnosis } from "../../shared/diagnose-frames.js";
import type { RemoteCheckQuestion } from "../../helper/engines/link/remote-checks.js";
import { diagnose, type DiagnoseContext, type DiagnoseProbes } from "./diagnostics.js";

const ENOTFOUND = (name: string) =>
  Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" }));

function probes(overrides: Partial<DiagnoseProbes> = {}): DiagnoseProbes {
  return {
    lookup: () => Promise.resolve(["198.19.1.10"]),
    route: () => Promise.resolve({ interface: "veth-s", gateway: null }),
    connect: () => Promise.resolve(),
    localAddresses: () => ["198.19.0.1"],
    now: () => 0,
    ...overrides,
  };
}

/** The agent's answer, built from what a question asked. */
function remote(answer: (q: RemoteCheckQuestion) => Partial<RemoteDiagnosis>): DiagnoseContext["remote"] {
  return (question) =>
    Promise.resolve({
      id: 1,
      entrance: "tun",
      dns: null,
      address: question.address,
      route: { ...TUNNEL },
      connect: { ok: true, latencyMs: 3.2, error: null, code: null },
      error: null,
      ...answer(question),
    });
}

const TUNNEL: NonNullable<RemoteDiagnosis["route"]> = {
  viaTunnel: true,
  dev: "bh0",
  gateway: null,
  tunnelPrefix: "198.19.0.0/16",
  skipped: null,
  ownRoute: null,
  error: null,
};

const STUB_DNS = {
  addresses: ["198.19.1.10"],
  error: null,
  latencyMs: 2,
  viaStub: true,
  servers: ["198.18.0.2"],
};

function context(remoteSide?: DiagnoseContext["remote"]): DiagnoseContext {
  return {
    advertised: ["198.19.0.0/16", "198.19.1.0/24"],
    excludes: [],
    allowLocal: false,
    connected: true,
    remote: remoteSide,
  };
}

test("reachable from the remote: the verdict gives the remote's latency through the tunnel", async () => {
  const result = await diagnose(
    { host: "host.corp.test", port: 80 },
    context(remote(() => ({ dns: STUB_DNS }))),
    probes(),
  );
  assert.equal(result.verdict, "reachable");
  assert.equal(result.remote?.connect?.latencyMs, 3.2);
  assert.match(result.summary, /^The remote reaches host\.corp\.test:80 through the tunnel .* in 3\.2 ms/);
});

test("the remote is on the prefix itself: the verdict names its interface, the network and the overlap", async () => {
  const overlap = remote((q) => ({
    route: insideRemoteNetworkRoute("dummy0"),
    // Its connect reaches its own network: a success that says nothing about ours.
    connect: { ok: true, latencyMs: 0.1, error: null, code: null },
    address: q.address,
  }));
  const result = await diagnose({ host: "198.19.1.10", port: 80 }, context(overlap), probes());
  assert.equal(result.verdict, "remote-route");
  assert.match(
    result.summary,
    /^The remote routes 198\.19\.1\.10 via its own dummy0 because it is on 198\.19\.1\.0\/24 itself — the prefix 198\.19\.1\.0\/24 was skipped as an overlap/,
  );
});

/** 198.19.1.10:80 diagnosed where the remote routes it through its eth0, not the tunnel; `route` adds why. */
function diagnoseOutsideTunnel(route: Partial<NonNullable<RemoteDiagnosis["route"]>>) {
  return diagnose(
    { host: "198.19.1.10", port: 80 },
    context(remote(() => ({ route: { ...TUNNEL, viaTunnel: false, dev: "eth0", ...route } }))),
    probes(),
  );
}

test("a route of the remote's own, more specific than the tunnel's, and one it already had", async () => {
  const own = await diagnoseOutsideTunnel({
    ownRoute: {
      prefix: "198.19.1.0/24",
      dev: "eth0",
      kind: "route",
      description: "198.19.1.0/24 via 10.0.0.1 dev eth0",
    },
  });
  assert.equal(own.verdict, "remote-route");
  assert.match(
    own.summary,
    /its own route 198\.19\.1\.0\/24 via 10\.0\.0\.1 dev eth0 is more specific than the tunnel's 198\.19\.0\.0\/16/,
  );

  const existing = await diagnoseOutsideTunnel({
    tunnelPrefix: null,
    skipped: {
      prefix: "198.19.0.0/16",
      reason: "already-routed",
      message: "198.19.0.0/16 is not routed: the remote has its own route for it",
    },
  });
  assert.match(existing.summary, /ip route del 198\.19\.0\.0\/16/);
});

test("a refused port, seen from the remote", async () => {
  const refused = remote(() => ({
    connect: { ok: false, latencyMs: 1, error: "connect ECONNREFUSED 198.19.1.10:81", code: "ECONNREFUSED" },
  }));
  const result = await diagnose(
    { host: "host.corp.test", port: 81 },
    context(refused),
    probes({
      connect: () =>
        Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })),
    }),
  );
  assert.equal(result.verdict, "refused");
  assert.equal(
    result.summary,
    "host.corp.test (198.19.1.10) refused the connection on port 81: nothing listens there, or a firewall rejects it — check the service on 198.19.1.10.",
  );
});

test("a name neither end resolves; a name only this computer resolves", async () => {
  const nowhere = remote(() => ({
    dns: {
      addresses: [],
      error: "getaddrinfo ENOTFOUND",
      latencyMs: 1,
      viaStub: true,
      servers: ["198.18.0.2"],
    },
    address: null,
    route: null,
    connect: null,
  }));
  const none = await diagnose(
    { host: "nope.corp.test", port: 80 },
    context(nowhere),
    probes({ lookup: ENOTFOUND }),
  );
  assert.equal(none.verdict, "unresolvable");
  assert.match(
    none.summary,
    /^Neither the remote's resolver \(through Backhaul's stub, this computer's\) nor this computer's knows nope\.corp\.test/,
  );

  const ownResolver = remote(() => ({
    dns: {
      addresses: [],
      error: "getaddrinfo ENOTFOUND",
      latencyMs: 1,
      viaStub: false,
      servers: ["10.0.0.2"],
    },
  }));
  const split = await diagnose({ host: "vault.corp.test", port: 80 }, context(ownResolver), probes());
  assert.equal(split.verdict, "remote-dns");
  assert.match(
    split.summary,
    /remote's resolver \(its own, 10\.0\.0\.2\) does not know vault\.corp\.test .* this computer's does \(198\.19\.1\.10\): .*--dns all/,
  );
});

test("a name only the remote resolves is checked at the remote's address", async () => {
  const result = await diagnose(
    { host: "only.remote.test", port: 80 },
    context(
      remote(() => ({ dns: { ...STUB_DNS, viaStub: false, servers: ["10.0.0.2"] }, address: "198.19.1.10" })),
    ),
    probes({ lookup: ENOTFOUND }),
  );
  assert.equal(result.address, "198.19.1.10");
  assert.equal(result.verdict, "reachable");
});

test("without an answer from the remote, this computer's side decides and the summary says why", async () => {
  const result = await diagnose(
    { host: "host.corp.test", port: 80 },
    context(() => Promise.reject(new Error("the remote did not answer within 20 s"))),
    probes(),
  );
  assert.equal(result.remote, null);
  assert.equal(result.remoteError, "the remote did not answer within 20 s");
  assert.equal(result.verdict, "reachable");
  assert.match(result.summary, /The remote's side was not checked: the remote did not answer within 20 s/);
});

test("a timeout from the remote is said as no answer", async () => {
  const result = await diagnose(
    { host: "198.19.1.10", port: 9 },
    context(
      remote(() => ({
        connect: { ok: false, latencyMs: 5000, error: "no answer in 5 s", code: "ETIMEDOUT" },
      })),
    ),
    probes(),
  );
  assert.equal(result.verdict, "timeout");
  assert.match(result.summary, /did not answer on port 9 within 5 s \(a connect from the remote\)/);
});

test("split DNS whose own resolver fails: the remote's DNS comes with the result, and the sentence points at that resolver", async () => {
  const ownResolverFails = remote(() => ({
    dns: { addresses: [], error: "no answer", latencyMs: 5000, viaStub: false, servers: ["198.18.5.2"] },
  }));
  const counts = { viaLink: 2, viaRemote: 40, unanswered: 7, refused: 1, overloaded: 0 };
  const remoteDns = { mode: "split" as const, setup: "resolv-conf-forwarder-native" as const, ...counts };
  const failing = await diagnose(
    { host: "pkg.example.test", port: 443 },
    { ...context(ownResolverFails), remoteDns },
    probes({ lookup: ENOTFOUND }),
  );
  assert.equal(failing.verdict, "unresolvable");
  assert.deepEqual(failing.remoteDns, remoteDns);
  assert.match(
    failing.summary,
    /forwarder has seen 7 lookups go unanswered since it started: check the servers the remote's resolv\.conf named before Backhaul/,
  );
  // The same name with a resolver that never failed (refused counts clients' bad queries): no hint.
  const healthy = await diagnose(
    { host: "pkg.example.test", port: 443 },
    { ...context(ownResolverFails), remoteDns: { ...remoteDns, unanswered: 0, refused: 3 } },
    probes({ lookup: ENOTFOUND }),
  );
  assert.doesNotMatch(healthy.summary, /go unanswered/);
  // No session: no remote DNS at all.
  const alone = await diagnose(
    { host: "198.19.1.10", port: 80 },
    { ...context(), connected: false },
    probes(),
  );
  assert.equal(alone.remoteDns, null);
});
