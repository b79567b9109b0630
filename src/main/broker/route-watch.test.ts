import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import type { RouteEntry } from "../../helper/routes/index.js";
import { RouteWatch } from "./route-watch.js";

const lan: RouteEntry = {
  prefix: "198.18.10.0/24",
  family: 4,
  interface: "wlan0",
  gateway: null,
  source: "connected",
};
const vpn: RouteEntry = {
  prefix: "198.19.0.0/16",
  family: 4,
  interface: "tun0",
  gateway: "198.19.0.1",
  source: "route-table",
};

/** Runs `body`, then stops `watch` whatever happened. The watch's timers and monitor never hold
 * the process open (by design), so the test holds it while it waits. */
async function whileWatching(watch: RouteWatch, body: () => Promise<void>): Promise<void> {
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    await body();
  } finally {
    watch.stop();
    clearInterval(keepAlive);
  }
}

test("without a monitor: a VPN coming up and going down is reported at the next poll, once each", async () => {
  let table: RouteEntry[] = [lan];
  const watch = new RouteWatch({
    include: [],
    exclude: [],
    intervalMs: 20,
    monitor: null,
    readRoutes: async () => table,
  });
  await whileWatching(watch, async () => {
    assert.deepEqual(await watch.start(), ["198.18.10.0/24"]);
    table = [lan, vpn];
    const [up] = (await once(watch, "change")) as [string[]];
    assert.deepEqual(up, ["198.18.10.0/24", "198.19.0.0/16"]);
    table = [lan];
    const [down] = (await once(watch, "change")) as [string[]];
    assert.deepEqual(down, ["198.18.10.0/24"]);
  });
});

test("the user's include and exclude apply to every reading", async () => {
  const watch = new RouteWatch({
    include: ["198.18.20.0/24"],
    exclude: ["198.19.5.0/24"],
    readRoutes: async () => [lan, vpn],
  });
  const prefixes = await watch.current();
  assert.ok(prefixes.includes("198.18.20.0/24"));
  assert.ok(!prefixes.includes("198.19.0.0/16"), "the VPN prefix is split around the exclusion");
  assert.ok(prefixes.includes("198.19.0.0/22"));
});

// The monitor here is a stand-in for `ip monitor` (e2e/route-watch.test.ts runs the real one): a
// shell that prints one line, as the OS's monitor does when a route changes.
test("a monitor event reads the routes at once, long before the safety poll", async () => {
  let table: RouteEntry[] = [lan];
  const reads: number[] = [];
  const watch = new RouteWatch({
    include: [],
    exclude: [],
    monitoredIntervalMs: 60_000,
    settleMs: 10,
    monitor: { file: "sh", args: ["-c", "read -r _; echo 'route changed'; exec sleep 30"] },
    readRoutes: async () => {
      reads.push(Date.now());
      return table;
    },
  });
  await whileWatching(watch, async () => {
    await watch.start();
    table = [lan, vpn];
    // The stand-in waits for a line that never comes (its stdin is /dev/null): EOF at once.
    const started = Date.now();
    const [up] = (await once(watch, "change")) as [string[]];
    assert.deepEqual(up, ["198.18.10.0/24", "198.19.0.0/16"]);
    assert.ok(Date.now() - started < 5_000);
    assert.equal(reads.length, 2, "the baseline, then one read for the event");
  });
});

test("a monitor that cannot run is said once, and the watch polls instead", async () => {
  let table: RouteEntry[] = [lan];
  const lost: string[] = [];
  const watch = new RouteWatch({
    include: [],
    exclude: [],
    intervalMs: 20,
    monitor: { file: "/nonexistent/route-monitor", args: [] },
    onMonitorLost: (why) => lost.push(why),
    readRoutes: async () => table,
  });
  await whileWatching(watch, async () => {
    await watch.start();
    table = [lan, vpn];
    const [up] = (await once(watch, "change")) as [string[]];
    assert.deepEqual(up, ["198.18.10.0/24", "198.19.0.0/16"]);
    assert.equal(lost.length, 1);
    assert.match(lost[0] ?? "", /the route monitor exited \(code 127\)/);
  });
});

test("a monitor that never stops talking is read at most once per gap, not once per event", async () => {
  let reads = 0;
  const watch = new RouteWatch({
    include: [],
    exclude: [],
    settleMs: 10,
    minGapMs: 300,
    // Stands for a host whose interfaces churn: an event every 20 ms.
    monitor: { file: "sh", args: ["-c", "while :; do echo event; sleep 0.02; done"] },
    readRoutes: async () => {
      reads++;
      return [lan];
    },
  });
  await whileWatching(watch, async () => {
    await watch.start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // The baseline, then at most one read per 300 ms: ~50 events, at most 1 + 4 reads.
    assert.ok(reads >= 2, `the events were read (${reads} reads)`);
    assert.ok(reads <= 5, `${reads} reads for ~50 events`);
  });
});
