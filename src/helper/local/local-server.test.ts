// The helper's socket server with real Unix sockets in a private temp directory; the agent's
// side is a real entrance Link over an in-memory pipe (createMemoryPipe), as main relays it.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { connect } from "node:net";
import { test } from "node:test";
import { encodeLine, MAX_HELPER_LINE, parseEvent } from "../../shared/helper-protocol.js";
import { helperExit } from "../../main/broker/helper/helper-exit.js";
import {
  attachHelperControl,
  HelperRefusedError,
  openHelperLink,
} from "../../main/broker/helper/helper-client.js";
import {
  startTestHelperServer,
  TEST_EXIT_OPTIONS,
  TEST_TOKEN,
  testAgentLink,
} from "../../main/broker/helper/testing.js";
import { readFirstLine, splitLines } from "./line-socket.js";
import { createMemoryPipe } from "../engines/link/memory-pipe.js";
import { until } from "../../shared/test-until.js";

async function withServer(run: (socketPath: string, logs: string[]) => Promise<void>): Promise<void> {
  const logs: string[] = [];
  const server = await startTestHelperServer({
    log: (line) => logs.push(line),
    onShutdown: () => logs.push("shutdown"),
  });
  try {
    await run(server.socketPath, logs);
  } finally {
    await server.close();
  }
}

async function firstReply(socketPath: string, line: string): Promise<string> {
  const socket = connect(socketPath);
  socket.write(line);
  try {
    return await readFirstLine(socket, 4096, 5_000);
  } finally {
    socket.destroy();
  }
}

test("the socket is owner-only", () =>
  withServer(async (socketPath) => {
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
  }));

test("a wrong token, a bad line or an unknown link is refused and logged", () =>
  withServer(async (socketPath, logs) => {
    const wrong = await firstReply(
      socketPath,
      encodeLine({ type: "link", token: "b".repeat(64), options: TEST_EXIT_OPTIONS }),
    );
    assert.deepEqual(JSON.parse(wrong), { type: "refused", reason: "wrong token" });
    const short = await firstReply(socketPath, encodeLine({ type: "shutdown", token: "a" }));
    assert.match(short, /wrong token/);
    assert.match(await firstReply(socketPath, "GET / HTTP/1.1\n"), /not a JSON line/);
    assert.match(await firstReply(socketPath, '{"type":"link"}\n'), /no token/);
    const badOptions = await firstReply(
      socketPath,
      encodeLine({ type: "link", token: TEST_TOKEN, options: { ...TEST_EXIT_OPTIONS, mtu: 10 } }),
    );
    assert.match(badOptions, /options\.mtu/);
    assert.match(
      await firstReply(socketPath, encodeLine({ type: "control", token: TEST_TOKEN, linkId: "x" })),
      /no such link/,
    );
    await assert.rejects(
      attachHelperControl({ socketPath, token: "c".repeat(64) }, "x"),
      (error) => error instanceof HelperRefusedError && /wrong token/.test(error.message),
    );
    assert.ok(logs.filter((line) => line.startsWith("refused")).length >= 6);
    assert.ok(!logs.includes("shutdown"), "a wrong-token shutdown is ignored");
  }));

test("a link runs through the helper: handshake, CONFIG, agent progress, tables, close", () =>
  withServer(async (socketPath, logs) => {
    const [agentSide, mainSide] = createMemoryPipe();
    const agent = testAgentLink(agentSide);
    const configs: string[][] = [];
    agent.on("config", (config) => configs.push(config.routes));
    const exit = await helperExit(() => Promise.resolve({ socketPath, token: TEST_TOKEN })).open(
      mainSide,
      TEST_EXIT_OPTIONS,
    );
    const progress: Record<string, number>[] = [];
    exit.onProgress((extra) => progress.push(extra));
    await exit.ready;
    await agent.ready;
    await until(() => configs.length === 1);
    assert.deepEqual(configs[0], ["198.19.0.0/16"]);

    agent.sendStats({ "agent.routes": 1, "agent.ready": 1, "tun.rx": 5 });
    await until(() => progress.length > 0);
    assert.deepEqual(progress.at(-1), { "agent.routes": 1, "agent.ready": 1 });

    exit.updateRoutes(["198.19.0.0/16", "198.18.64.0/18"]);
    await until(() => configs.length === 2);
    assert.deepEqual(configs[1], ["198.19.0.0/16", "198.18.64.0/18"]);
    assert.equal(exit.nat.table.openCount, 0);
    // DNS off: the table is there all the same, for the names the proxy entrance looks up.
    assert.deepEqual(exit.dns?.table.snapshot(), []);
    assert.ok(!logs.some((line) => line.startsWith("control:")), logs.join("\n"));

    exit.close("the user disconnected");
    const agentClosed = await agent.closed;
    assert.equal(agentClosed.initiator, "peer");
    assert.equal(agentClosed.reason, "the user disconnected");
    assert.match((await exit.closed).reason, /the user disconnected|closed/);
  }));

test("the link closes when main's control connection goes away", () =>
  withServer(async (socketPath) => {
    const endpoint = { socketPath, token: TEST_TOKEN };
    const link = await openHelperLink(endpoint, TEST_EXIT_OPTIONS);
    const agent = testAgentLink(link.socket, 0);
    link.socket.resume();
    await agent.ready;
    const control = await attachHelperControl(endpoint, link.linkId);
    const second = firstReply(
      socketPath,
      encodeLine({ type: "control", token: TEST_TOKEN, linkId: link.linkId }),
    );
    assert.match(await second, /already has a control connection/);
    control.destroy();
    const closed = await agent.closed;
    assert.match(closed.reason, /broker closed its control connection/);
  }));

test("a connection that hangs up without a byte is a probe and logs nothing; a partial line is refused", () =>
  withServer(async (socketPath, logs) => {
    const probe = connect(socketPath);
    await new Promise<void>((resolve) => probe.once("connect", () => resolve()));
    probe.destroy(); // what the supervisor's readiness check does
    const partial = connect(socketPath);
    partial.on("error", () => undefined);
    partial.end('{"type":"link"');
    await until(() => logs.some((line) => line.startsWith("refused")));
    assert.deepEqual(
      logs.filter((line) => line.startsWith("refused")),
      ["refused a connection: the connection ended before its first line"],
      "only the connection that sent something is refused",
    );
  }));

test("a control connection that stops reading gets only the latest progress when it reads again", () =>
  withServer(async (socketPath) => {
    const endpoint = { socketPath, token: TEST_TOKEN };
    const link = await openHelperLink(endpoint, TEST_EXIT_OPTIONS);
    const agent = testAgentLink(link.socket);
    link.socket.resume();
    await agent.ready;
    const control = await attachHelperControl(endpoint, link.linkId); // paused: main is not reading
    const changes = 20_000; // each a new value, ~50 bytes a line: far more than a socket buffer holds
    for (let value = 1; value <= changes; value++) {
      while (!agent.sendStats({ "agent.routes": value }))
        await new Promise((resolve) => setTimeout(resolve, 5));
      if (value % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(agent.sendStats({ "agent.ready": 1 }));
    const progress: Record<string, number>[] = [];
    await new Promise((resolve) => setTimeout(resolve, 200));
    splitLines(
      control,
      MAX_HELPER_LINE,
      (line) => {
        const event = parseEvent(line);
        if (event.type === "progress") progress.push(event.extra);
      },
      () => assert.fail("oversized line"),
    );
    control.resume();
    await until(() => progress.at(-1)?.["agent.ready"] === 1);
    assert.deepEqual(progress.at(-1), { "agent.routes": changes, "agent.ready": 1 });
    assert.ok(
      progress.length < changes / 4,
      `progress was coalesced: ${progress.length} lines for ${changes} changes`,
    );
    control.destroy();
    await agent.closed;
  }));
