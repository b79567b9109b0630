import assert from "node:assert/strict";
import { test } from "node:test";
import type { LinkDnsConfig } from "../../shared/link-protocol.js";
import { reverseZones } from "../engines/dns/reverse-zones.js";
import { planRoutes } from "./routes.js";
import { withoutSkippedZones } from "./split-zones.js";

const split = (routes: string[], names: string[] = ["corp.test"]): LinkDnsConfig => ({
  mode: "split",
  servers: ["198.18.0.2"],
  domains: [...names, ...reverseZones(routes)],
});

test("a prefix the remote is on itself keeps its PTRs on the remote; routed prefixes' zones and the names stay", () => {
  const routes = ["198.19.0.0/16", "198.18.5.0/24", "198.18.1.0/30"];
  // R is on 198.18.5.0/24 and 198.18.1.0/30 (its own interfaces): both are skipped.
  const plan = planRoutes(routes, {
    networks: [
      { prefix: "198.18.5.0/24", dev: "eth1", kind: "connected" },
      { prefix: "198.18.1.0/30", dev: "eth0", kind: "connected" },
    ],
    mainRoutes: [],
    linkPath: [],
  });
  assert.deepEqual(
    plan.skip.map((skip) => skip.prefix),
    ["198.18.5.0/24", "198.18.1.0/30"],
  );
  const dns = withoutSkippedZones(split(routes), plan);
  assert.deepEqual(dns.mode === "split" && dns.domains, ["corp.test", "19.198.in-addr.arpa"]);
});

test("nothing skipped, no plan yet, or not split: the configuration as it came", () => {
  const dns = split(["198.19.0.0/16"]);
  const routed = planRoutes(["198.19.0.0/16"], { networks: [], mainRoutes: [], linkPath: [] });
  assert.equal(withoutSkippedZones(dns, routed), dns);
  assert.equal(withoutSkippedZones(dns, null), dns);
  const all: LinkDnsConfig = { mode: "all", servers: ["198.18.0.2"] };
  assert.equal(withoutSkippedZones(all, routed), all);
});
