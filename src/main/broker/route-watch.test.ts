import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import type { RouteEntry } from "./routes/index.js";
import { RouteWatch, type RouteWatchOptions } from "./route-watch.js";

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

/** Starts `watch` and runs `body` with its first prefixes, then stops it whatever happened. The
 * watch's timers and monitor never hold the process open (by design), so the test holds it while it waits. */
async function whileWatching(watch: RouteWatch, body: (started: string[]) => Promise<void>): Promise<void> {
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    await body(await watch.start());
  } finally {
    watch.stop();
    clearInterval(keepAlive);
  }
}

/**
 * A watch with no include or exclude over a table the test swaps: `routes.table` is what the next
 * reading returns (the LAN alone at first), `routes.reads` counts the readings.
 */
function watchTable(options: Omit<RouteWatchOptions, "include" | "exclude" | "readRoutes">) {
  const routes = { table: [lan], reads: 0 };
  const watch = new RouteWatch({
    include: [],
    exclude: [],
    ...options,
    readRoutes: async () => {
      routes.reads++;
      return routes.table;
    },
  });
  return { watch, routes };
}

/** The VPN's route appears; resolves once the watch reports both prefixes. */
async function vpnComesUp(watch: RouteWatch, routes: { table: RouteEntry[] }): Promise<void> {
  routes.table = [lan, vpn];
  const [up] = (await once(watch, "change")) as [string[]];
  assert.deepEqual(up, ["198.18.10.0/24", "198.19.0.0/16"]);
}

test("without a monitor: a VPN coming up and going down is reported at the next poll, once each", async () => {
  const { watch, routes } = watchTable({ intervalMs: 20, monitor: null });
  await whileWatching(watch, async (started) => {
    assert.deepEqual(started, ["198.18.10.0/24"]);
    await vpnComesUp(watch, routes);
    routes.table = [lan];
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
  const { watch, routes } = watchTable({
    monitoredIntervalMs: 60_000,
    settleMs: 10,
    monitor: { file: "sh", args: ["-c", "read -r _; echo 'route changed'; exec sleep 30"] },
  });
  await whileWatching(watch, async () => {
    // The stand-in waits for a line that never comes (its stdin is /dev/null): EOF at once.
    const started = Date.now();
    await vpnComesUp(watch, routes);
    assert.ok(Date.now() - started < 5_000);
    assert.equal(routes.reads, 2, "the baseline, then one read for the event");
  });
});

test("a monitor that cannot run is said once, and the watch polls instead", async () => {
  const lost: string[] = [];
  const { watch, routes } = watchTable({
    intervalMs: 20,
    monitor: { file: "/nonexistent/route-monitor", args: [] },
    onMonitorLost: (why) => lost.push(why),
  });
  await whileWatching(watch, async () => {
    await vpnComesUp(watch, routes);
    assert.equal(lost.length, 1);
    assert.match(lost[0] ?? "", /the route monitor exited \(code 127\)/);
  });
});

test("a monitor that never stops talking is read at most once per gap, not once per event", async () => {
  const { watch, routes } = watchTable({
    settleMs: 10,
    minGapMs: 300,
    // Stands for a host whose interfaces churn: an event every 20 ms.
    monitor: { file: "sh", args: ["-c", "while :; do echo event; sleep 0.02; done"] },
  });
  await whileWatching(watch, async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // The baseline, then at most one read per 300 ms: ~50 events, at most 1 + 4 reads.
    assert.ok(routes.reads >= 2, `the events were read (${routes.reads} reads)`);
    assert.ok(routes.reads <= 5, `${routes.reads} reads for ~50 events`);
  });
});
