/**
 * The controller's wiring, against a fake bridge: what main answers lands in the right store,
 * failures are shown, and a bridge that comes back is asked for everything again.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  AppEvent,
  BackhaulApi,
  RequestChannel,
  RequestOf,
  ResponseOf,
  SessionView,
  TablesSnapshot,
} from "../shared/api.js";
import { testFlowRow } from "../shared/test-flow-row.js";
import type { BridgeLinkState } from "./bridge-client.js";
import type { Bridge } from "./bridge.js";
import { Controller, messageOf } from "./controller.js";
import { DEFAULT_SETTINGS, IDLE_SESSION } from "../shared/api.js";
import { useSamplesStore } from "./state/samples-store.js";
import { PICKING, useSessionStore } from "./state/session-store.js";
import { useSettingsStore } from "./state/settings-store.js";
import { useTablesStore } from "./state/tables-store.js";
import { useTargetsStore } from "./state/targets-store.js";

type Handlers = { [C in RequestChannel]?: (payload: RequestOf<C>) => Promise<ResponseOf<C>> | ResponseOf<C> };

function fakeBridge(handlers: Handlers) {
  const listeners = new Set<(event: AppEvent) => void>();
  const linkListeners = new Set<(state: BridgeLinkState) => void>();
  const calls: RequestChannel[] = [];
  const api: BackhaulApi = {
    async request<C extends RequestChannel>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>> {
      calls.push(channel);
      const handler = handlers[channel] as ((payload: RequestOf<C>) => ResponseOf<C>) | undefined;
      if (!handler) throw new Error(`${channel} is not faked`);
      return handler(payload);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const bridge: Bridge = {
    api,
    linkState: () => "open",
    onLinkChange(listener) {
      linkListeners.add(listener);
      return () => linkListeners.delete(listener);
    },
  };
  return {
    bridge,
    calls,
    emit: (event: AppEvent) => listeners.forEach((listener) => listener(event)),
    link: (state: BridgeLinkState) => linkListeners.forEach((listener) => listener(state)),
  };
}

const CONNECTED: SessionView = {
  ...IDLE_SESSION,
  phase: "connected",
  target: { id: "devbox", label: "devbox" },
  connectedSince: 1,
  advertised: ["198.19.0.0/16"],
};

const FLOW = testFlowRow(7, {
  destination: "198.19.0.10:443",
  state: "DIALING",
  startedAt: 1,
  lastActivityAt: 1,
});

const BASE: Handlers = {
  "app:info": () => ({ version: "9.9.9", platform: "linux", shell: "browser" }),
  "session:get": () => CONNECTED,
  "sessions:list": () => [CONNECTED],
  "tables:snapshot": () => ({ flows: [FLOW], dns: [] }),
  "targets:list": () => ({ targets: [], recents: [], warnings: ["gh: not logged in"] }),
  "settings:get": () => DEFAULT_SETTINGS,
};

test("fake bridge: start loads the app info, session, tables, targets and settings into their stores", async () => {
  const fake = fakeBridge(BASE);
  const controller = new Controller(fake.bridge);
  const stop = controller.start();
  await controller.loadAll();
  assert.equal(useSessionStore.getState().info?.version, "9.9.9");
  assert.equal(useSessionStore.getState().session.phase, "connected");
  assert.deepEqual([...useTablesStore.getState().flows.keys()], [7]);
  assert.deepEqual(useTargetsStore.getState().list?.warnings, ["gh: not logged in"]);
  assert.equal(useSettingsStore.getState().settings?.dns, DEFAULT_SETTINGS.dns);

  fake.emit({ type: "session", session: { ...CONNECTED, phase: "reconnecting", retryAt: 5 } });
  assert.equal(useSessionStore.getState().session.phase, "reconnecting");
  fake.emit({
    type: "prompt",
    prompt: { id: "p1", kind: "passphrase", message: "Passphrase for id_ed25519?" },
  });
  assert.deepEqual(
    useSessionStore.getState().prompts.map((prompt) => prompt.id),
    ["p1"],
  );
  stop();
});

test("fake bridge: deltas that arrive while a snapshot is fetched are dropped, not applied twice", async () => {
  let answer: (snapshot: TablesSnapshot) => void = () => undefined;
  const fake = fakeBridge({
    ...BASE,
    "tables:snapshot": () => new Promise<TablesSnapshot>((resolve) => (answer = resolve)),
  });
  const controller = new Controller(fake.bridge);
  const stop = controller.start();
  const loading = controller.loadTables();
  assert.equal(useTablesStore.getState().awaitingSnapshot, true);
  // Already in the snapshot: applying it would need a frame, which plain Node does not have.
  fake.emit({ type: "flows", delta: { upserts: [{ ...FLOW, upBytes: 5 }], removals: [] } });
  answer({ flows: [{ ...FLOW, upBytes: 5 }], dns: [] });
  await loading;
  assert.equal(useTablesStore.getState().awaitingSnapshot, false);
  assert.equal(useTablesStore.getState().flows.get(7)?.row.upBytes, 5);
  stop();
});

test("fake bridge: a refused request is shown as main worded it", async () => {
  const fake = fakeBridge({
    ...BASE,
    "session:connect": () => {
      throw new Error(
        "Error invoking remote method 'session:connect': ApiValidationError: targetId must be a string",
      );
    },
    "settings:set": () => {
      throw new Error('routes: "nope" is not a CIDR prefix');
    },
  });
  const controller = new Controller(fake.bridge);
  await controller.connect("devbox");
  assert.equal(useSessionStore.getState().notice, "targetId must be a string");
  const saved = await controller.saveSettings({ ...DEFAULT_SETTINGS, routes: ["nope"] });
  assert.equal(saved, false);
  assert.equal(useSettingsStore.getState().error, 'routes: "nope" is not a CIDR prefix');
  assert.equal(useSettingsStore.getState().saving, false);
});

test("fake bridge: when the bridge comes back after a loss, everything is fetched again", async () => {
  const fake = fakeBridge(BASE);
  const controller = new Controller(fake.bridge);
  const stop = controller.start();
  await controller.loadAll();
  fake.calls.length = 0;
  fake.link("lost");
  assert.equal(useSessionStore.getState().link, "lost");
  fake.link("open");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(useSessionStore.getState().link, "open");
  assert.ok(fake.calls.includes("session:get"), "the session is fetched again");
  assert.ok(fake.calls.includes("tables:snapshot"), "and the tables");
  stop();
});

test("fake bridge: several sessions: the window shows the one picked, charts only its samples, ends it alone", async () => {
  const other: SessionView = { ...CONNECTED, target: { id: "codespace:x", label: "fuzzy-x" } };
  const disconnected: unknown[] = [];
  const fake = fakeBridge({
    ...BASE,
    "session:get": () => other, // the latest started
    "sessions:list": () => [CONNECTED, other],
    "session:disconnect": (payload) => {
      disconnected.push(payload);
      return CONNECTED;
    },
  });
  const controller = new Controller(fake.bridge);
  controller.select(null); // an earlier test's connect picked "devbox"
  const stop = controller.start();
  await controller.loadAll();
  assert.equal(
    useSessionStore.getState().session.target?.id,
    "codespace:x",
    "the latest, until one is picked",
  );
  controller.select("devbox");
  assert.equal(useSessionStore.getState().session.target?.id, "devbox");
  const sample = { at: 1, upBps: 1, downBps: 1, rttMs: null, openFlows: 0, upBytes: 0, downBytes: 0 };
  fake.emit({ type: "sample", sample: { ...sample, session: "codespace:x" } });
  fake.emit({ type: "sample", sample: { ...sample, at: 2, session: "devbox" } });
  assert.deepEqual(
    useSamplesStore.getState().samples.map((s) => s.session),
    ["devbox"],
    "only the shown session's samples",
  );
  fake.emit({ type: "sessions", sessions: [{ ...CONNECTED, phase: "reconnecting" }, other] });
  assert.equal(useSessionStore.getState().session.phase, "reconnecting", "the shown session's own state");

  await controller.disconnect();
  assert.deepEqual(disconnected, [{ targetId: "devbox" }], "the shown session, by its target");
  controller.select(PICKING);
  assert.equal(useSessionStore.getState().session.target, null, "New session: the target picker");
  fake.emit({ type: "sessions", sessions: [other] });
  controller.select("devbox");
  assert.equal(
    useSessionStore.getState().session.target?.id,
    "codespace:x",
    "a session main no longer holds: the latest instead",
  );
  stop();
});

test("messages lose Electron's wrapping and the error class name", () => {
  assert.equal(
    messageOf(new Error("Error invoking remote method 'diagnose:run': Error: host must be a host name")),
    "host must be a host name",
  );
  assert.equal(messageOf("plain"), "plain");
});
