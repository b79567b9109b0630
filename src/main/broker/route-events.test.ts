import assert from "node:assert/strict";
import { test } from "node:test";
import { routeMonitorCommand } from "./route-events.js";

test("each OS's own route monitor; none on Windows, where the watch polls", () => {
  assert.deepEqual(routeMonitorCommand("linux"), { file: "ip", args: ["monitor", "route", "address"] });
  const darwin = routeMonitorCommand("darwin");
  assert.deepEqual(darwin?.args, ["-n", "monitor"]);
  assert.ok(
    (darwin?.minGapMs ?? 0) >= 1_000,
    "the routing socket is chatty: read at most every second or so",
  );
  assert.equal(routeMonitorCommand("win32"), null);
});
