/**
 * The WebSocket bridge client's protocol logic, driven through a fake socket and a fake timer:
 * request correlation, event fan-out, reconnects, and giving up once the server refuses the page.
 * The real WebSocket path is covered by the browser-mode Playwright test.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AppEvent, BridgeClientMessage } from "../shared/api.js";
import {
  BridgeClient,
  BridgeLostError,
  BridgeRefusedError,
  NOT_CONNECTED_MESSAGE,
  type BridgeClientOptions,
  type BridgeLinkState,
  type SocketHandlers,
} from "./bridge-client.js";

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

function harness(options: Omit<BridgeClientOptions, "connect" | "schedule"> = {}) {
  const sockets: FakeSocket[] = [];
  const timers: { callback: () => void; ms: number; cancelled: boolean }[] = [];
  const states: BridgeLinkState[] = [];
  const client = new BridgeClient({
    retryDelaysMs: [100, 200],
    ...options,
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
  const { client, socket } = harness({ reportError: (error) => reported.push(error) });
  const seenA: AppEvent[] = [];
  const seenB: AppEvent[] = [];
  client.subscribe(() => {
    throw new Error("listener bug");
  });
  client.subscribe((event) => seenA.push(event));
  const unsubscribeB = client.subscribe((event) => seenB.push(event));
  socket().handlers.open();
  const event: AppEvent = { type: "log", line: "hello" };
  socket().reply({ event });
  unsubscribeB();
  socket().reply({ event: { type: "tables-reset" } });
  socket().handlers.message("not json");
  assert.deepEqual(seenA, [event, { type: "tables-reset" }]);
  assert.deepEqual(seenB, [event]);
  assert.equal(reported.length, 2);
});

test("fake socket: a drop rejects requests in flight, reports lost, and reconnects with backoff", async () => {
  const { client, socket, sockets, timers, states } = harness({ retryDelaysMs: [100, 200] });
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

/** Fails the socket the client is waiting on, then runs the reconnect it schedules, `count` times. */
function failAndRetry(h: ReturnType<typeof harness>, count: number): void {
  for (let i = 0; i < count; i++) {
    h.socket().handlers.close();
    h.timers.at(-1)?.callback();
  }
}

test("fake socket: no token means no socket at all: refused at once, with the message", async () => {
  const timers: unknown[] = [];
  const client = new BridgeClient({
    connect: () => null,
    schedule: () => {
      timers.push(1);
      return () => undefined;
    },
  });
  assert.equal(client.state, "refused");
  await assert.rejects(client.request("app:info", null), BridgeRefusedError);
  await assert.rejects(client.request("app:info", null), { message: NOT_CONNECTED_MESSAGE });
  assert.equal(timers.length, 0, "nothing is retried");
  assert.match(NOT_CONNECTED_MESSAGE, /not connected to a running `backhaul ui`: open the URL it printed/);
});

test("fake socket: five sockets that never open (a refused token) end in refused, and no more retries", async () => {
  const h = harness({ retryDelaysMs: [100, 200] });
  const queued = h.client.request("app:info", null);
  h.socket().handlers.close();
  await assert.rejects(queued, BridgeLostError, "the first failure still reads as lost");
  assert.deepEqual(h.states, ["lost"]);
  h.timers.at(-1)?.callback();
  for (let attempt = 2; attempt <= 4; attempt++) {
    h.socket().handlers.close();
    assert.equal(h.client.state, "lost", `still trying after ${attempt} failures`);
    h.timers.at(-1)?.callback();
  }
  assert.equal(h.sockets.length, 5);
  const lastQueued = h.client.request("app:info", null);
  await assert.rejects(lastQueued, BridgeLostError, "refused while lost");
  h.socket().handlers.close();
  assert.deepEqual(h.states, ["lost", "refused"]);
  assert.equal(h.client.state, "refused");
  assert.equal(h.timers.length, 4, "four retries after the first attempt; none after the fifth failure");
  assert.equal(h.sockets.length, 5, "no sixth socket");
  await assert.rejects(h.client.request("session:get", null), BridgeRefusedError);
});

test("fake socket: after a working connection it retries with backoff, then gives up (new server, new token)", async () => {
  const h = harness({ retryDelaysMs: [100, 200, 400] });
  h.socket().handlers.open();
  const inFlight = h.client.request("targets:list", null);
  h.socket().handlers.close();
  await assert.rejects(inFlight, BridgeLostError);
  assert.equal(h.timers.at(-1)?.ms, 100, "the usual backoff after a drop");
  h.timers.at(-1)?.callback();
  for (let failure = 1; failure < 5; failure++) {
    h.socket().handlers.close();
    assert.equal(h.client.state, "lost", `${failure} failed reconnects: still trying`);
    h.timers.at(-1)?.callback();
  }
  assert.deepEqual(
    h.timers.map((timer) => timer.ms),
    [100, 200, 400, 400, 400],
    "the drop and four failed reconnects each schedule the next try",
  );
  h.socket().handlers.close();
  assert.deepEqual(h.states, ["open", "lost", "refused"]);
  assert.equal(h.timers.length, 5, "nothing scheduled after the fifth failed reconnect");
  assert.equal(h.sockets.length, 6, "the first socket and five reconnects");
  await assert.rejects(h.client.request("session:get", null), BridgeRefusedError);
});

test("fake socket: an open resets the count of failures; a drop after open is not a failure", () => {
  const h = harness({ retryDelaysMs: [100], maxFailures: 3 });
  failAndRetry(h, 2);
  h.socket().handlers.open();
  assert.equal(h.client.state, "open");
  // Drops right after each open (the server alive, the socket cut) never add up to a refusal.
  for (let i = 0; i < 5; i++) {
    h.socket().handlers.close();
    h.timers.at(-1)?.callback();
    h.socket().handlers.open();
  }
  assert.equal(h.client.state, "open");
  failAndRetry(h, 3);
  assert.equal(h.client.state, "lost", "a drop, then two failed reconnects: under the limit of three");
  h.socket().handlers.close();
  assert.equal(h.client.state, "refused", "the third failed reconnect in a row ends it");
});

test("fake socket: close() after a refusal is quiet", async () => {
  const h = harness({ retryDelaysMs: [100], maxFailures: 1 });
  h.socket().handlers.close();
  assert.equal(h.client.state, "refused");
  h.client.close();
  assert.equal(h.timers.length, 0);
  await assert.rejects(h.client.request("app:info", null), /closed/);
});
