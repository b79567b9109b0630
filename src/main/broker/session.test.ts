// The Session's own bookkeeping, with a fake exit side and a fake transport (no agent, no link):
// the real paths run in e2e/session.test.ts and e2e/cli-ssh.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeAgentLink, type FakeAgentLinkOptions } from "./fake-agent-link.js";
import { remoteDnsExtras, type RemoteDnsStatus } from "../../shared/remote-dns-status.js";
import { Session, type AgentTransport, type SessionOptions, type SessionState } from "./session.js";

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

test("the local helper starts while SSH connects; the agent starts only once it is ready", async () => {
  const fake = fakeAgentAndHelper();
  const order: string[] = [];
  const session = new Session({
    exitProvider: {
      prepare: () => {
        order.push("helper starting");
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            order.push("helper ready");
            resolve();
          }, 50),
        );
      },
      open: (stream, options) => fake.provider.open(stream, options),
    },
    openAgent: async (step, exitReady) => {
      step("ssh");
      order.push("ssh connecting");
      await exitReady; // as launchAgent does before it starts the agent
      order.push("agent starting");
      return fake.transport;
    },
    exit: EXIT,
  });
  session.on("state", (state) => {
    if (state.state === "connected") void session.disconnect();
  });
  await session.run();
  assert.deepEqual(order, ["helper starting", "ssh connecting", "helper ready", "agent starting"]);
});

test("a helper that cannot start fails the attempt even while SSH is fine, and the transport is not used", async () => {
  const fake = fakeAgentAndHelper();
  let opened = 0;
  const session = new Session({
    exitProvider: {
      prepare: () => Promise.reject(new Error("the helper did not start")),
      open: (stream, options) => fake.provider.open(stream, options),
    },
    openAgent: async (_step, exitReady) => {
      await exitReady;
      opened++;
      return fake.transport;
    },
    exit: EXIT,
    backoff: { initialMs: 10, maxMs: 10 },
  });
  const states: SessionState[] = [];
  session.on("state", (state) => {
    states.push(state);
    if (state.state === "reconnecting" || (state.state === "connecting" && state.attempt > 1))
      void session.disconnect();
  });
  await session.run();
  assert.equal(opened, 0, "no agent started without the helper");
  assert.ok(
    states.some((state) => JSON.stringify(state).includes("the helper did not start")),
    JSON.stringify(states),
  );
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

/**
 * A split-DNS session on a fake agent, connected: what its exit side was sent, what it logged, and
 * `stop` (disconnect and wait). `local` answers each read of this computer's domains.
 */
async function connectedSplitSession(
  options: Pick<SessionOptions, "dnsDomainsPollMs" | "dnsDomainsSettleMs"> & {
    local: () => Promise<string[]>;
    userDomains?: string[];
    dnsModeInForce?: FakeAgentLinkOptions["dnsModeInForce"];
  },
): Promise<{ session: Session; sent: string[][]; modes: string[]; logs: string[]; stop(): Promise<void> }> {
  const sent: string[][] = [];
  const modes: string[] = [];
  const logs: string[] = [];
  const fake = fakeAgentLink({
    progress: [{ "agent.routes": 1, "agent.ready": 1 }],
    onDnsDomains: (domains) => sent.push(domains),
    onDnsMode: (mode, domains) => modes.push(`${mode} ${domains.join(",")}`.trim()),
    ...(options.dnsModeInForce ? { dnsModeInForce: options.dnsModeInForce } : {}),
  });
  const session = new Session({
    exitProvider: fake.provider,
    openAgent: () => Promise.resolve(fake.transport),
    exit: { ...EXIT, dns: "split", ...(options.userDomains ? { dnsDomains: options.userDomains } : {}) },
    localDnsDomains: options.local,
    ...(options.dnsDomainsPollMs === undefined ? {} : { dnsDomainsPollMs: options.dnsDomainsPollMs }),
    ...(options.dnsDomainsSettleMs === undefined ? {} : { dnsDomainsSettleMs: options.dnsDomainsSettleMs }),
  });
  session.on("log", (line) => logs.push(line));
  const running = session.run();
  await until("connected", () => session.state.state === "connected");
  return {
    session,
    sent,
    modes,
    logs,
    stop: async () => {
      await session.disconnect();
      await running;
    },
  };
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5_000) throw new Error(`${what}: not within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("split DNS follows this computer's domains while connected: at a route change and on the poll, once per change", async () => {
  let local = ["home.test"];
  const { session, sent, logs, stop } = await connectedSplitSession({
    local: () => Promise.resolve(local),
    userDomains: ["user.test"],
    dnsDomainsPollMs: 50,
  });
  // A VPN comes up: its route and its domain.
  local = ["home.test", "vpn.test"];
  session.updateRoutes(["198.19.0.0/16"]);
  await until("the VPN's domain sent", () => sent.length === 1);
  assert.deepEqual(sent[0], ["home.test", "vpn.test", "user.test"]);
  assert.ok(
    logs.some((line) => line.includes("names under home.test, vpn.test, user.test now go through the link")),
  );
  // The poll sees the VPN go down, without a route change; then nothing more while nothing changes.
  local = ["home.test"];
  await until("the VPN's domain gone", () => sent.length === 2);
  assert.deepEqual(sent[1], ["home.test", "user.test"]);
  await sleep(200);
  assert.equal(sent.length, 2, "an unchanged read sends nothing");
  await stop();
});

test("Settings → DNS mode applies to a connected session: split → off → all → split, whose domains then follow again", async () => {
  let local = ["home.test"];
  const { session, sent, modes, logs, stop } = await connectedSplitSession({
    local: () => Promise.resolve(local),
    dnsDomainsPollMs: 50,
  });
  await session.setDnsMode("off");
  await session.setDnsMode("off"); // unchanged: nothing more is sent
  await session.setDnsMode("all");
  await session.setDnsMode("split");
  assert.deepEqual(modes, ["off", "all", "split home.test"]);
  assert.ok(
    logs.includes("DNS: now off; the remote's resolver follows without a reconnect"),
    logs.join("\n"),
  );
  // Split again: the poll follows this computer's domains as after a connect.
  local = ["home.test", "vpn.test"];
  await until("the VPN's domain sent", () => sent.length === 1);
  assert.deepEqual(sent[0], ["home.test", "vpn.test"]);
  await stop();
});

test("a mode change says what it did, and waits for the agent to report the new mode in force", async () => {
  let failing = false;
  const { session, stop } = await connectedSplitSession({
    local: () => Promise.resolve(["home.test"]),
    // The agent switches, except when told to fail: then the remote's own resolver is in force.
    dnsModeInForce: (asked) => (failing ? "off" : asked),
  });
  assert.deepEqual(await session.setDnsMode("split"), { kind: "unchanged", running: "split" });
  assert.deepEqual(await session.setDnsMode("all"), { kind: "sent", running: "all" });
  assert.equal(await session.agentDnsMode("all", 5_000), "all");
  failing = true;
  assert.deepEqual(await session.setDnsMode("split"), { kind: "sent", running: "split" });
  assert.equal(
    await session.agentDnsMode("split", 300),
    "off",
    "not in force: what the agent reports instead",
  );
  await stop();
  assert.deepEqual(await session.setDnsMode("all"), { kind: "at-connect" });
});

test("a split that fell back to all keeps its rule; from off, split with no domain runs as all again", async () => {
  const { session, modes, logs, stop } = await connectedSplitSession({ local: () => Promise.resolve([]) });
  await session.setDnsMode("split");
  assert.deepEqual(modes, [], "running as all already");
  await session.setDnsMode("off");
  await session.setDnsMode("split");
  assert.deepEqual(modes, ["off", "all"]);
  assert.ok(logs.at(-1)?.startsWith("split DNS: this computer names no search or VPN domain"), logs.at(-1));
  await stop();
});

test("a session that did not start split never sends domains", async () => {
  // Split with no domain anywhere runs as "all" (local-dns-domains.ts): a superset, kept.
  let local: string[] = [];
  const { session, sent, stop } = await connectedSplitSession({
    local: () => Promise.resolve(local),
    dnsDomainsPollMs: 20,
  });
  local = ["vpn.test"];
  session.updateRoutes(["198.19.0.0/16"]);
  await sleep(200);
  assert.deepEqual(sent, []);
  await stop();
});

test("a failing read of the domains keeps the last ones and is said once, not at every poll", async () => {
  let fail = false;
  let reads = 0;
  const { sent, logs, stop } = await connectedSplitSession({
    local: () => {
      reads++;
      return fail ? Promise.reject(new Error("scutil is gone")) : Promise.resolve(["home.test"]);
    },
    dnsDomainsPollMs: 20,
  });
  fail = true;
  const readsBefore = reads;
  await until("five more reads", () => reads >= readsBefore + 5);
  assert.deepEqual(
    logs.filter((line) => line.includes("reading this computer's domains failed")),
    ["split DNS: reading this computer's domains failed (Error: scutil is gone); kept the last ones"],
  );
  assert.deepEqual(sent, [], "the domains the exit has are kept");
  await stop();
});

test("after a route change the domains are read again a moment later: a VPN's resolver may come after its routes", async () => {
  let local = ["home.test"];
  const { session, sent, stop } = await connectedSplitSession({
    local: () => Promise.resolve(local),
    // No poll within the test: only the route change and its second read.
    dnsDomainsPollMs: 60_000,
    dnsDomainsSettleMs: 100,
  });
  session.updateRoutes(["198.19.0.0/16"]);
  // The routes' read finds nothing new; the VPN's domain lands just after.
  await sleep(20);
  assert.deepEqual(sent, []);
  local = ["home.test", "vpn.test"];
  await until("the second read", () => sent.length > 0);
  assert.deepEqual(sent, [["home.test", "vpn.test"]]);
  await stop();
});

test("the remote's DNS as the agent reports it: merged per link, each change once, gone once the link is", async () => {
  // An in-process exit passes each STATS report alone: the mode, then the forwarder's counts.
  const split = { "agent.routes": 1, "agent.ready": 1, "agent.dnsMode": 2, "agent.dnsChanges": 0 };
  const counts = (viaRemote: number) =>
    remoteDnsExtras("resolv-conf-forwarder-native", {
      viaLink: 3,
      viaRemote,
      unanswered: 1,
      refused: 0,
      overloaded: 0,
    });
  const fake = fakeAgentLink({ progress: [split, counts(10), counts(10), counts(11)] });
  const session = new Session({
    exitProvider: fake.provider,
    openAgent: () => Promise.resolve(fake.transport),
    exit: { ...EXIT, dns: "all" },
  });
  const heard: (RemoteDnsStatus | null)[] = [];
  session.on("remoteDns", (status) => heard.push(status));
  session.on("state", (state) => {
    if (state.state === "connected") setTimeout(() => void session.disconnect(), 20);
  });
  const running = session.run();
  await until("the counts", () => session.remoteDns?.viaRemote === 11);
  assert.deepEqual(session.remoteDns, {
    mode: "split",
    setup: "resolv-conf-forwarder-native",
    viaLink: 3,
    viaRemote: 11,
    unanswered: 1,
    refused: 0,
    overloaded: 0,
  });
  await running;
  assert.deepEqual(
    heard.map((status) => status?.viaRemote ?? status?.mode ?? null),
    ["split", 10, 11, null],
    "the mode, each change of the counts once, then nothing once the link ended",
  );
  assert.equal(session.remoteDns, null);
});

test("access to this computer changed while the link opens: the opened exit gets it once it is up", async () => {
  const asked: boolean[] = [];
  const fake = fakeAgentLink({
    progress: [{ "agent.routes": 1, "agent.ready": 1 }],
    onAllowLocal: (allow) => void asked.push(allow),
  });
  let opening: () => void = () => undefined;
  const openCalled = new Promise<void>((resolve) => (opening = resolve));
  let letOpen: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (letOpen = resolve));
  const openedWith: boolean[] = [];
  const session = new Session({
    exitProvider: {
      open: async (stream, options) => {
        openedWith.push(options.allowLocal);
        opening();
        await gate;
        return fake.provider.open(stream, options);
      },
    },
    openAgent: () => Promise.resolve(fake.transport),
    exit: EXIT,
  });
  const running = session.run();
  await openCalled;
  assert.deepEqual(await session.setAllowLocal(true), { kind: "at-connect" });
  letOpen();
  await until("connected", () => session.state.state === "connected");
  await until("the change applied", () => asked.length > 0);
  assert.deepEqual(openedWith, [false], "the link opened with the setting of its start");
  assert.deepEqual(asked, [true], "and was given the change once it was up");
  assert.deepEqual(await session.setAllowLocal(true), { kind: "unchanged" });
  await session.disconnect();
  await running;
});

test("access to this computer: a change says what it did (unchanged, applied with the flows it ended, at the next connect)", async () => {
  const asked: boolean[] = [];
  let confirm = true;
  const fake = fakeAgentLink({
    progress: [{ "agent.routes": 1, "agent.ready": 1 }],
    onAllowLocal: (allow) => {
      asked.push(allow);
      if (!confirm) throw new Error("the local helper did not confirm");
      return allow ? 0 : 2;
    },
  });
  const logs: string[] = [];
  const session = new Session({
    exitProvider: fake.provider,
    openAgent: () => Promise.resolve(fake.transport),
    exit: EXIT,
  });
  session.on("log", (line) => logs.push(line));
  const running = session.run();
  await until("connected", () => session.state.state === "connected");

  assert.deepEqual(await session.setAllowLocal(false), { kind: "unchanged" });
  assert.deepEqual(asked, [], "nothing sent for no change");
  assert.deepEqual(await session.setAllowLocal(true), { kind: "applied", endedFlows: 0 });
  assert.equal(session.allowsLocal, true);
  assert.deepEqual(await session.setAllowLocal(false), { kind: "applied", endedFlows: 2 });
  assert.ok(logs.includes("access to this computer switched off: 2 open flows to it ended"), logs.join("\n"));
  confirm = false;
  assert.deepEqual(await session.setAllowLocal(true), {
    kind: "unconfirmed",
    why: "the local helper did not confirm",
  });
  assert.deepEqual(asked, [true, false, true]);
  // Not confirmed: asking again is not "unchanged", it is sent again.
  confirm = true;
  assert.deepEqual(await session.setAllowLocal(true), { kind: "applied", endedFlows: 0 });
  assert.deepEqual(asked, [true, false, true, true]);
  assert.deepEqual(await session.setAllowLocal(true), { kind: "unchanged" });

  await session.disconnect();
  await running;
  assert.deepEqual(await session.setAllowLocal(false), { kind: "at-connect" });
  assert.equal(session.allowsLocal, false, "kept for the next connect");
});
