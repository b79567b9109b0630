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

test("a VPN coming up and going down is reported as a change, once each", async () => {
  // The watch's timer does not hold the process open (by design); the test must.
  const keepAlive = setInterval(() => undefined, 1_000);
  let table: RouteEntry[] = [lan];
  const watch = new RouteWatch({ include: [], exclude: [], intervalMs: 20, readRoutes: async () => table });
  assert.deepEqual(await watch.start(), ["198.18.10.0/24"]);
  table = [lan, vpn];
  const [up] = (await once(watch, "change")) as [string[]];
  assert.deepEqual(up, ["198.18.10.0/24", "198.19.0.0/16"]);
  table = [lan];
  const [down] = (await once(watch, "change")) as [string[]];
  assert.deepEqual(down, ["198.18.10.0/24"]);
  watch.stop();
  clearInterval(keepAlive);
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
