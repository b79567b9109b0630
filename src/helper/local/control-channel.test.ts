// The control channel over a real Unix socket whose reader stops reading, as a stuck main would.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { testFlowRow } from "../../shared/test-flow-row.js";
import { MAX_HELPER_LINE, parseEvent, type HelperEvent } from "../../shared/helper-protocol.js";
import { ControlChannel } from "./control-channel.js";
import { splitLines } from "./line-socket.js";
import { until } from "../../shared/test-until.js";

/** A connected pair: `helper` writes, `main` starts paused (not reading). */
async function withPair(run: (helper: Socket, main: Socket) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bh-control-test-"));
  const path = join(dir, "control.sock");
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const main = connect(path);
  main.pause();
  const helper = await accepted;
  try {
    await run(helper, main);
  } finally {
    helper.destroy();
    main.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

function read(main: Socket): HelperEvent[] {
  const events: HelperEvent[] = [];
  splitLines(
    main,
    MAX_HELPER_LINE,
    (line) => events.push(parseEvent(line)),
    () => assert.fail("oversized"),
  );
  main.resume();
  return events;
}

const ROW = testFlowRow(1, { protocol: "udp", destination: "198.19.0.10:53", state: "ACTIVE" });

test("while main does not read, status and progress wait as their latest values; deltas keep their order", () =>
  withPair(async (helper, main) => {
    const channel = new ControlChannel(helper, { maxBacklogBytes: 64 * 1024 * 1024, log: () => undefined });
    let sent = 0;
    while (!helper.writableNeedDrain) {
      channel.send({ type: "flows", delta: { upserts: [ROW], removals: [sent++] } });
    }
    for (let rtt = 1; rtt <= 1000; rtt++) channel.send({ type: "status", rttMs: rtt });
    channel.send({ type: "progress", extra: { "agent.routes": 1 } });
    channel.send({ type: "progress", extra: { "agent.routes": 1, "agent.ready": 1 } });
    channel.send({ type: "closed", reason: "done" });
    const events = read(main);
    await until(() => events.at(-1)?.type === "closed");
    const removals = events.flatMap((event) => (event.type === "flows" ? event.delta.removals : []));
    assert.deepEqual(
      removals,
      Array.from({ length: sent }, (_, index) => index),
      "every delta, in order",
    );
    assert.deepEqual(
      events.filter((event) => event.type === "status"),
      [{ type: "status", rttMs: 1000 }],
      "only the latest status",
    );
    assert.deepEqual(
      events.filter((event) => event.type === "progress"),
      [{ type: "progress", extra: { "agent.routes": 1, "agent.ready": 1 } }],
      "only the latest progress",
    );
    assert.deepEqual(
      events.slice(-3).map((event) => event.type),
      ["status", "progress", "closed"],
      "what waited goes out before the next event",
    );
  }));

test("a main that stops reading is dropped once the backlog passes the bound, and the log says so", () =>
  withPair(async (helper) => {
    const logs: string[] = [];
    const bound = 1024 * 1024;
    const channel = new ControlChannel(helper, { maxBacklogBytes: bound, log: (line) => logs.push(line) });
    const delta = { upserts: [ROW], removals: [] as number[] };
    for (let count = 0; count < 100_000 && !helper.destroyed; count++) channel.send({ type: "flows", delta });
    assert.ok(helper.destroyed, "the connection was dropped");
    assert.match(logs.join("\n"), /dropped a control connection that stopped reading \(\d+ bytes waiting\)/);
    const waiting = Number(/\((\d+) bytes/.exec(logs[0] ?? "")?.[1]);
    assert.ok(waiting > bound && waiting < bound + 4096, `dropped just past the bound (${waiting} bytes)`);
    channel.send({ type: "flows", delta }); // after the drop: ignored, no throw
  }));
