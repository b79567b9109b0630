// The Session's own bookkeeping, with a fake exit side and a fake transport (no agent, no link):
// the real paths run in e2e/session.test.ts and e2e/cli-ssh.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeAgentLink } from "./fake-agent-link.js";
import { Session, type AgentTransport, type SessionState } from "./session.js";

/** The helper repeats the agent's progress: its whole map each time. */
const fakeAgentAndHelper = () =>
  fakeAgentLink({ progress: [{ "agent.routes": 1 }, { "agent.routes": 1, "agent.ready": 1 }] });

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
