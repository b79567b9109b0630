import assert from "node:assert/strict";
import { test } from "node:test";
import type { IpcRendererEvent } from "electron";
import { EVENT_CHANNEL, type AppEvent, type RequestChannel } from "../../shared/api.js";
import { createBackhaulApi, type PreloadIpc } from "./preload-api.js";

type Listener = (event: IpcRendererEvent, ...args: unknown[]) => void;

function fakeIpc() {
  const invoked: [string, unknown[]][] = [];
  const listeners = new Map<string, Set<Listener>>();
  const ipc: PreloadIpc = {
    invoke: (channel, ...args) => {
      invoked.push([channel, args]);
      return Promise.resolve({ answered: channel });
    },
    on: (channel, listener) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)?.add(listener);
    },
    removeListener: (channel, listener) => {
      listeners.get(channel)?.delete(listener);
    },
  };
  const emit = (channel: string, ...args: unknown[]) => {
    const event = { sender: "the ipcRenderer itself", ports: [] } as unknown as IpcRendererEvent;
    for (const listener of listeners.get(channel) ?? []) listener(event, ...args);
  };
  return { ipc, invoked, listeners, emit };
}

test("request invokes the channel of the API with its payload", async () => {
  const { ipc, invoked } = fakeIpc();
  const api = createBackhaulApi(ipc);
  assert.deepEqual(await api.request("session:connect", { targetId: "sandbox" }), {
    answered: "session:connect",
  });
  assert.deepEqual(invoked, [["session:connect", [{ targetId: "sandbox" }]]]);
});

test("request refuses a channel outside the API without touching IPC", async () => {
  const { ipc, invoked } = fakeIpc();
  const api = createBackhaulApi(ipc);
  for (const channel of ["backhaul:event", "ELECTRON_BROWSER_REQUIRE", "app:info ", 42])
    await assert.rejects(api.request(channel as RequestChannel, null), /unknown request channel/);
  assert.deepEqual(invoked, []);
});

test("subscribe hands the page the event only, and unsubscribes", () => {
  const { ipc, listeners, emit } = fakeIpc();
  const api = createBackhaulApi(ipc);
  const received: unknown[][] = [];
  const unsubscribe = api.subscribe((...args: unknown[]) => received.push(args));
  const event: AppEvent = { type: "log", line: "hello" };
  emit(EVENT_CHANNEL, event);
  emit("another-channel", { type: "log", line: "not for the page" });
  assert.deepEqual(received, [[event]], "one argument: the AppEvent, never the IpcRendererEvent");

  unsubscribe();
  assert.equal(listeners.get(EVENT_CHANNEL)?.size, 0);
  emit(EVENT_CHANNEL, event);
  assert.equal(received.length, 1);
});
