// Stream counters in STATS, between an entrance and an exit over a memory pipe (streams/test-world.ts).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { StatsReport } from "../../../shared/link-protocol.js";
import { until } from "../../../shared/test-until.js";
import { tcpServer, world } from "../streams/test-world.js";
import { reportStreamStats, streamStatsExtras } from "./stream-stats.js";

const server = await tcpServer();
after(() => server.close());

test("names each counter streams.<name>, beside the streams open", () => {
  assert.deepEqual(streamStatsExtras({ opened: 3, refused: 1 }, 2), {
    "streams.open": 2,
    "streams.opened": 3,
    "streams.refused": 1,
  });
});

test("the entrance's counters reach the exit in STATS when they change, and only then", async () => {
  const w = await world();
  try {
    const reports: StatsReport[] = [];
    w.exitLink.on("stats", (report) => reports.push(report));
    reportStreamStats(
      w.entranceLink,
      () => streamStatsExtras({ ...w.opener.counters }, w.opener.openCount),
      50,
    );
    await until(() => reports.length === 1, 5_000, "the first report");
    assert.equal(reports[0]?.extra["streams.opened"], 0);
    await sleep(300);
    assert.equal(reports.length, 1, "nothing changed: nothing sent");
    const stream = await w.opener.open({ kind: "address", address: "127.0.0.1", port: server.port });
    await until(() => reports.at(-1)?.extra["streams.opened"] === 1, 5_000, "the open counted");
    assert.equal(reports.at(-1)?.extra["streams.open"], 1);
    stream.reset();
    await until(() => reports.at(-1)?.extra["streams.open"] === 0, 5_000, "the reset stream gone");
  } finally {
    w.close();
  }
});
