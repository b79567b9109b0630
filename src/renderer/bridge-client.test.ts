/**
 * The WebSocket bridge client's protocol logic, driven through a fake socket and a fake timer:
 * request correlation, event fan-out, reconnects. The real WebSocket path is covered by the
 * browser-mode Playwright test.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AppEvent, BridgeClientMessage } from "../shared/api.js";
import { BridgeClient, BridgeLostError, type BridgeLinkState, type SocketHandlers } from "./bridge-client.js";

class FakeSocket {
  readonly sent: BridgeClientMessage[] = [];
  closedByClient = false;
  constructor(readonly handlers: SocketHandlers) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as BridgeClientMessage);
  }
  close(): void {
    this.closedByClient = true;
  }
  reply(message: unknown): void {
    this.handlers.message(JSON.stringify(message));
  }
}

function harness(retryDelaysMs = [100, 200]) {
  const sockets: FakeSocket[] = [];
  const timers: { callback: () => void; ms: number; cancelled: boolean }[] = [];
  const states: BridgeLinkState[] = [];
  const client = new BridgeClient({
    connect: (handlers) => {
      const socket = new FakeSocket(handlers);
      sockets.push(socket);
      return socket;
    },
    schedule: (callback, ms) => {
      const timer = { callback, ms, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    retryDelaysMs,
  });
  client.onStateChange((state) => states.push(state));
  const socket = (index = sockets.length - 1): FakeSocket => {
    const found = sockets[index];
    assert.ok(found, `socket ${index} exists`);
    return found;
  };
  return { client, sockets, timers, states, socket };
}

test("fake socket: requests made before the socket opens are sent when it opens", async () => {
  const { client, socket } = harness();
  const info = client.request("app:info", null);
  assert.deepEqual(socket().sent, [], "nothing is sent before open");
  socket().handlers.open();
  assert.deepEqual(socket().sent, [{ id: 1, channel: "app:info", payload: null }]);
  socket().reply({ id: 1, ok: true, result: { version: "1.2.3", platform: "linux", shell: "browser" } });
  assert.deepEqual(await info, { version: "1.2.3", platform: "linux", shell: "browser" });
  assert.equal(client.state, "open");
});

test("fake socket: responses are matched to requests by id, in any order", async () => {
  const { client, socket } = harness();
  socket().handlers.open();
  const session = client.request("session:get", null);
  const diag = client.request("diagnose:run", { host: "db.corp.test", port: 5432 });
  const [first, second] = socket().sent;
  assert.equal(first?.channel, "session:get");
  assert.deepEqual(second, { id: 2, channel: "diagnose:run", payload: { host: "db.corp.test", port: 5432 } });
  socket().reply({ id: 2, ok: false, error: "host must be a host name or an IP address" });
  socket().reply({ id: 99, ok: true, result: "unknown ids are ignored" });
  socket().reply({ id: 1, ok: true, result: { phase: "disconnected" } });
  assert.deepEqual(await session, { phase: "disconnected" });
  await assert.rejects(diag, { message: "host must be a host name or an IP address" });
});

test("fake socket: events reach every subscriber; a throwing listener does not stop the others", () => {
  const reported: unknown[] = [];
  const sockets: FakeSocket[] = [];
  const client = new BridgeClient({
    connect: (handlers) => {
      const socket = new FakeSocket(handlers);
      sockets.push(socket);
      return socket;
    },
    schedule: () => () => undefined,
    reportError: (error) => reported.push(error),
  });
  const seenA: AppEvent[] = [];
  const seenB: AppEvent[] = [];
  client.subscribe(() => {
    throw new Error("listener bug");
  });
  client.subscribe((event) => seenA.push(event));
  const unsubscribeB = client.subscribe((event) => seenB.push(event));
  const socket = sockets[0];
  assert.ok(socket);
  socket.handlers.open();
  const event: AppEvent = { type: "log", line: "hello" };
  socket.reply({ event });
  unsubscribeB();
  socket.reply({ event: { type: "tables-reset" } });
  socket.handlers.message("not json");
  assert.deepEqual(seenA, [event, { type: "tables-reset" }]);
  assert.deepEqual(seenB, [event]);
  assert.equal(reported.length, 2);
});

test("fake socket: a drop rejects requests in flight, reports lost, and reconnects with backoff", async () => {
  const { client, socket, sockets, timers, states } = harness([100, 200]);
  socket().handlers.open();
  const inFlight = client.request("targets:list", null);
  socket().handlers.close();
  await assert.rejects(inFlight, BridgeLostError);
  assert.deepEqual(states, ["open", "lost"]);
  await assert.rejects(client.request("session:get", null), BridgeLostError, "refused while lost");

  assert.equal(timers.at(-1)?.ms, 100);
  timers.at(-1)?.callback();
  assert.equal(sockets.length, 2, "a new socket after the first delay");
  socket().handlers.close();
  assert.equal(timers.at(-1)?.ms, 200, "the delay grows");
  timers.at(-1)?.callback();
  socket().handlers.close();
  assert.equal(timers.at(-1)?.ms, 200, "and stays at the last one");
  timers.at(-1)?.callback();
  socket().handlers.open();
  assert.deepEqual(states, ["open", "lost", "open"], "one lost state across failed retries");

  const again = client.request("session:get", null);
  socket().reply({ id: socket().sent[0]?.id, ok: true, result: { phase: "connected" } });
  assert.deepEqual(await again, { phase: "connected" });

  socket().handlers.close();
  assert.equal(timers.at(-1)?.ms, 100, "the backoff restarts after a successful open");
});

test("fake socket: messages from an old socket are ignored", () => {
  const { client, sockets, timers } = harness();
  const events: AppEvent[] = [];
  client.subscribe((event) => events.push(event));
  const first = sockets[0];
  assert.ok(first);
  first.handlers.open();
  first.handlers.close();
  timers.at(-1)?.callback();
  first.reply({ event: { type: "log", line: "stale" } });
  first.handlers.close();
  assert.deepEqual(events, []);
  assert.equal(timers.length, 1, "a stale close schedules nothing");
});

test("fake socket: close() stops reconnecting and rejects what is pending", async () => {
  const { client, socket, timers } = harness();
  const queued = client.request("app:info", null);
  client.close();
  await assert.rejects(queued, /closed/);
  assert.equal(socket().closedByClient, true);
  assert.equal(timers.length, 0);
  await assert.rejects(client.request("app:info", null), /closed/);
});
