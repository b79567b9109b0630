// listRoutes: choosing the reader by platform, adding os.networkInterfaces(), and one live run
// on this machine that checks the shape of what comes back (its routes are its own: no values).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPrefix, lastAddress, parsePrefix } from "../../../helper/engines/routes/cidr.js";
import { RouteTableError, advertisableRoutes, listRoutes } from "./index.js";
import { interfaceRoutes } from "./interfaces.js";
import { parseNetstatRoutes } from "./darwin.js";
import { fixture, fixtureInterfaces } from "./test-helpers.js";
import type { RouteEntry } from "../../../helper/engines/routes/types.js";

function assertWellFormed(entries: readonly RouteEntry[]): void {
  for (const entry of entries) {
    const prefix = parsePrefix(entry.prefix);
    assert.equal(formatPrefix(prefix), entry.prefix, "canonical prefix");
    assert.equal(prefix.family, entry.family, `family of ${entry.prefix}`);
    assert.ok(["route-table", "connected", "local", "user"].includes(entry.source), entry.source);
    assert.ok(entry.interface === null || entry.interface.length > 0, `interface of ${entry.prefix}`);
    if (entry.gateway !== null) assert.ok(parsePrefix(entry.gateway), `gateway of ${entry.prefix}`);
  }
}

describe("listRoutes", () => {
  it("reads the platform's table and adds the interfaces' subnets and addresses", async () => {
    const interfaces = fixtureInterfaces("darwin/split-tunnel-interfaces.json");
    const entries = await listRoutes({
      platform: "darwin",
      interfaces,
      run: async (_file, args) => fixture(`darwin/split-tunnel-netstat-${args.at(-1) ?? ""}.txt`),
    });
    assert.deepEqual(entries, [
      ...parseNetstatRoutes(fixture("darwin/split-tunnel-netstat-inet.txt"), 4),
      ...parseNetstatRoutes(fixture("darwin/split-tunnel-netstat-inet6.txt"), 6),
      ...interfaceRoutes(interfaces),
    ]);
  });

  it("says which platforms it cannot read", async () => {
    await assert.rejects(listRoutes({ platform: "aix", interfaces: {} }), (error: unknown) => {
      assert.ok(error instanceof RouteTableError);
      assert.equal(error.code, "unsupported-platform");
      assert.match(error.message, /aix/);
      return true;
    });
  });

  it(
    "reads this machine's routes (live)",
    { skip: process.platform !== "linux" && "Linux only" },
    async () => {
      const entries = await listRoutes();
      assertWellFormed(entries);
      assert.ok(
        entries.some((entry) => entry.source === "route-table"),
        "the main table has at least one route",
      );
      const advertised = advertisableRoutes(entries);
      assertWellFormed(advertised);
      for (const [index, entry] of advertised.entries()) {
        const prefix = parsePrefix(entry.prefix);
        assert.ok(prefix.length > 0, "no default route is advertised");
        const next = advertised[index + 1];
        if (next !== undefined && next.family === entry.family) {
          assert.ok(lastAddress(prefix) < parsePrefix(next.prefix).network, "sorted, without overlaps");
        }
      }
    },
  );
});
