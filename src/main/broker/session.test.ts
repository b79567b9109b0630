// The Session's own bookkeeping, with a fake exit side and a fake transport (no agent, no link):
// the real paths run in e2e/session.test.ts and e2e/cli-ssh.test.ts.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import type { ExitHandle, ExitProvider } from "./exit-handle.js";
import { Session, type AgentTransport, type SessionState } from "./session.js";

/**
 * An exit side that reports the agent's progress as the helper does (its whole map each time),
 * and a transport whose agent exits once that link is closed.
 */
function fakeAgentAndHelper(): { provider: ExitProvider; transport: AgentTransport } {
  let markClosed: (info: { reason: string }) => void = () => undefined;
  const closed = new Promise<{ reason: string }>((resolve) => (markClosed = resolve));
  const handle: ExitHandle = {
    nat: { table: { snapshot: () => [], subscribe: () => () => undefined, openCount: 0 } },
    dns: undefined,
    ready: Promise.resolve(),
    closed,
    rttMs: null,
    onProgress: (listener) => {
      setImmediate(() => {
        listener({ "agent.routes": 1 });
        listener({ "agent.routes": 1, "agent.ready": 1 });
      });
    },
    updateRoutes: () => undefined,
    startCapture: () => Promise.reject(new Error("this fake records no packets")),
    close: (reason) => markClosed({ reason }),
  };
  const transport: AgentTransport = {
    stream: new PassThrough(),
    stderr: new PassThrough(),
    close: () => markClosed({ reason: "the transport closed" }),
    exited: closed.then(() => undefined),
  };
  return { provider: { open: () => Promise.resolve(handle) }, transport };
}

const EXIT = {
  mtu: 1500,
  subnetV4: "198.18.0.0/30",
  subnetV6: null,
  routes: [],
  allowLocal: false,
  dns: "off" as const,
};

test("each connect step is reported once, in order, though the helper repeats the agent's progress", async () => {
  const fake = fakeAgentAndHelper();
  const session = new Session({
    exitProvider: fake.provider,
    openAgent: (step) => {
      step("ssh");
      return Promise.resolve(fake.transport);
    },
    exit: EXIT,
  });
  const states: SessionState[] = [];
  session.on("state", (state) => {
    states.push(state);
    if (state.state === "connected") void session.disconnect();
  });
  await session.run();
  const steps = states.flatMap((state) => (state.state === "connecting" ? [state.step] : []));
  assert.deepEqual(steps, ["start", "ssh", "agent", "routes", "dns"]);
  assert.deepEqual(states.at(-1), { state: "disconnected", reason: "disconnected by the user" });
});

test("an agent that does not exit in time is left to its own undo, and the disconnect says so", async () => {
  const fake = fakeAgentAndHelper();
  const transport: AgentTransport = { ...fake.transport, exited: new Promise<void>(() => undefined) };
  const session = new Session({
    exitProvider: fake.provider,
    openAgent: () => Promise.resolve(transport),
    exit: EXIT,
    agentExitTimeoutMs: 100,
  });
  const logs: string[] = [];
  session.on("log", (line) => logs.push(line));
  session.on("state", (state) => {
    if (state.state === "connected") void session.disconnect();
  });
  // Kept alive while the session waits: its own timers never hold the process.
  const alive = setInterval(() => undefined, 1_000);
  try {
    await session.run();
  } finally {
    clearInterval(alive);
  }
  assert.deepEqual(session.state, { state: "disconnected", reason: "disconnected by the user" });
  assert.deepEqual(logs, [
    "the agent did not exit within 0.1 s of the disconnect; it undoes what is left when its link ends, or on its next start",
  ]);
});
