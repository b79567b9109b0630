import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  DEFAULT_SETTINGS,
  IDLE_CAPTURE,
  type AppEvent,
  type EntranceKind,
  type EntranceMode,
  type SessionView,
} from "../../shared/api.js";
import { SudoPassword } from "../broker/deploy/sudo-password.js";
import { fakeAgentLink } from "../broker/fake-agent-link.js";
import type { SessionSpec } from "../broker/session-factory.js";
import { Session, type SessionOptions } from "../broker/session.js";
import { targetName, type Target } from "../broker/targets/index.js";
import { testFlowRow } from "../../shared/test-flow-row.js";
import { AppController } from "./controller.js";
import type { AppSessions } from "./session-factory.js";

async function controller(
  t: { after(fn: () => unknown): void },
  sessions?: AppSessions,
): Promise<{ app: AppController; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-controller-"));
  const app = await AppController.create({
    dataDir: dir,
    shell: "browser",
    distDir: join(dir, "dist"),
    ...(sessions ? { sessions } : {}),
  });
  t.after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, dir };
}

test("app info names the shell; settings persist for the next start", async (t) => {
  const { app, dir } = await controller(t);
  const info = await app.handle("app:info", null);
  assert.equal(info.shell, "browser");
  assert.equal(info.platform, process.platform);
  assert.deepEqual(await app.handle("settings:get", null), DEFAULT_SETTINGS);
  const next = { ...DEFAULT_SETTINGS, routes: ["198.18.200.0/24"], dns: "off" as const };
  assert.deepEqual(await app.handle("settings:set", next), next);
  const again = await AppController.create({ dataDir: dir, shell: "electron", distDir: dir });
  t.after(() => again.close());
  assert.deepEqual(await again.handle("settings:get", null), next);
});

test("a target that cannot be resolved ends in error, with events on the way", async (t) => {
  const { app } = await controller(t);
  const events: AppEvent[] = [];
  app.subscribe((event) => events.push(event));
  const view = await app.handle("session:connect", { targetId: "codespace:" });
  assert.equal(view.phase, "connecting");
  assert.deepEqual(view.target, { id: "codespace:", label: "codespace:" });
  const failed = await waitFor(app, (v) => v.phase === "error");
  assert.match(failed.message ?? "", /codespace:NAME/);
  const lists = events.flatMap((e) => (e.type === "sessions" ? [e.sessions] : []));
  assert.deepEqual(
    lists.at(-1)?.map((v) => v.phase),
    ["error"],
    "listed, in error, to read",
  );
  assert.deepEqual(
    events.filter((e) => e.type === "session").map((e) => (e as { session: SessionView }).session.phase),
    ["connecting", "error"],
  );
  assert.deepEqual(await app.handle("tables:snapshot", null), { flows: [], dns: [] });
  const after = await app.handle("session:disconnect", null);
  assert.equal(after.phase, "error", "disconnect after an error leaves the error to read");
  assert.deepEqual(await app.handle("sessions:list", null), [], "and forgets the session");
});

test("diagnostics refuse this computer until the user allows it", async (t) => {
  const { app } = await controller(t);
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const refused = await app.handle("diagnose:run", { host: "127.0.0.1", port });
  assert.equal(refused.policy.allowed, false);
  assert.equal(refused.connect?.ok, true);
  assert.match(refused.summary, /Allow access to this computer/);
  await app.handle("settings:set", { ...DEFAULT_SETTINGS, allowLocal: true });
  const allowed = await app.handle("diagnose:run", { host: "127.0.0.1", port });
  assert.equal(allowed.policy.allowed, true);
  assert.match(allowed.summary, /will, once connected, reach 127\.0\.0\.1/);
});

test("an answer to a question nobody asked is an error", async (t) => {
  const { app } = await controller(t);
  await assert.rejects(app.handle("prompt:answer", { id: "nope", answer: "yes" }), /no longer waiting/);
});

test("Record packets needs a connected session, and says so; stopping nothing changes nothing", async (t) => {
  const { app } = await controller(t);
  assert.deepEqual(await app.handle("capture:get", null), IDLE_CAPTURE);
  await assert.rejects(app.handle("capture:start", null), /Connect first/);
  assert.deepEqual(await app.handle("capture:stop", null), IDLE_CAPTURE);
});

/**
 * Real broker Sessions with a fake agent behind each (fake-agent-link.ts): the agent opener records
 * the entrance it was asked for and reports the one it "started", as the deploy step does (the
 * proxy for auto, as on a remote without /dev/net/tun).
 */
class EntranceRecordingSessions implements AppSessions {
  readonly asked: EntranceMode[] = [];
  private link: ReturnType<typeof fakeAgentLink> | undefined;

  create(spec: SessionSpec): Session {
    const provider = this.link?.provider;
    assert.ok(provider, "the agent opener comes before the session");
    return new Session({ exitProvider: provider, openAgent: spec.openAgent, exit: spec.exit });
  }

  sudoPassword(): SudoPassword {
    return new SudoPassword(() => Promise.resolve(null));
  }

  remoteAgentOpener(
    _target: unknown,
    options: { entrance: EntranceMode; onEntrance(kind: EntranceKind): void },
  ): SessionOptions["openAgent"] {
    const link = (this.link = fakeAgentLink({ progress: [{ "agent.routes": 1, "agent.ready": 1 }] }));
    return (step) => {
      step("agent");
      this.asked.push(options.entrance);
      options.onEntrance(options.entrance === "tun" ? "tun" : "proxy");
      return Promise.resolve(link.transport);
    };
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

test("a connect asks for the entrance in the settings; the view shows the one the agent started", async (t) => {
  const sessions = new EntranceRecordingSessions();
  const { app } = await controller(t, sessions);
  await app.handle("settings:set", { ...DEFAULT_SETTINGS, entrance: "proxy" });
  const connecting = await app.handle("session:connect", { targetId: "exec:sh" });
  assert.equal(connecting.entrance, null, "unknown until the agent starts");
  const connected = await waitFor(app, (v) => v.phase === "connected");
  assert.equal(connected.entrance, "proxy");
  assert.deepEqual(sessions.asked, ["proxy"]);
  assert.equal((await app.handle("session:disconnect", null)).entrance, "proxy", "kept to read");

  await app.handle("settings:set", { ...DEFAULT_SETTINGS, entrance: "tun" });
  assert.equal((await app.handle("session:connect", { targetId: "exec:sh" })).entrance, null);
  assert.equal((await waitFor(app, (v) => v.phase === "connected")).entrance, "tun");
  assert.deepEqual(sessions.asked, ["proxy", "tun"]);
  await app.handle("session:disconnect", null);
});

/** One fake agent whose exit side records the split domains it is sent; this computer names home.test. */
class DnsDomainSessions implements AppSessions {
  readonly sent: string[][] = [];
  readonly modes: string[] = [];
  readonly allowLocal: boolean[] = [];
  private link: ReturnType<typeof fakeAgentLink> | undefined;

  create(spec: SessionSpec): Session {
    const provider = this.link?.provider;
    assert.ok(provider, "the agent opener comes before the session");
    return new Session({
      exitProvider: provider,
      openAgent: spec.openAgent,
      exit: spec.exit,
      localDnsDomains: () => Promise.resolve(["home.test"]),
    });
  }

  sudoPassword(): SudoPassword {
    return new SudoPassword(() => Promise.resolve(null));
  }

  remoteAgentOpener(): SessionOptions["openAgent"] {
    const link = (this.link = fakeAgentLink({
      progress: [{ "agent.routes": 1, "agent.ready": 1 }],
      onDnsDomains: (domains) => this.sent.push(domains),
      onDnsMode: (mode, domains) => this.modes.push(`${mode} ${domains.join(",")}`.trim()),
      onAllowLocal: (allow) => this.allowLocal.push(allow),
    }));
    return (step) => {
      step("agent");
      return Promise.resolve(link.transport);
    };
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

test("split DNS domains changed in the settings reach the running session at once; other settings wait", async (t) => {
  const sessions = new DnsDomainSessions();
  const { app } = await controller(t, sessions);
  await app.handle("settings:set", { ...DEFAULT_SETTINGS, dns: "split", dnsDomains: ["corp.example"] });
  await app.handle("session:connect", { targetId: "exec:sh" });
  await waitFor(app, (v) => v.phase === "connected");
  await app.handle("settings:set", {
    ...DEFAULT_SETTINGS,
    dns: "split",
    dnsDomains: ["corp.example", "lab.test"],
  });
  for (let waited = 0; sessions.sent.length === 0 && waited < 5_000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(sessions.sent, [["home.test", "corp.example", "lab.test"]]);
  // Unchanged domains (another setting changed): nothing is sent.
  await app.handle("settings:set", {
    ...DEFAULT_SETTINGS,
    dns: "split",
    dnsDomains: ["corp.example", "lab.test"],
    allowLocal: true,
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(sessions.sent.length, 1);
  await app.handle("session:disconnect", null);
});

test("Settings → DNS mode reaches the running session within seconds, with split's domains; so does allow access", async (t) => {
  const sessions = new DnsDomainSessions();
  const { app } = await controller(t, sessions);
  await app.handle("settings:set", { ...DEFAULT_SETTINGS, dns: "split", dnsDomains: ["corp.example"] });
  await app.handle("session:connect", { targetId: "exec:sh" });
  await waitFor(app, (v) => v.phase === "connected");
  await app.handle("settings:set", { ...DEFAULT_SETTINGS, dns: "all", dnsDomains: ["corp.example"] });
  await app.handle("settings:set", { ...DEFAULT_SETTINGS, dns: "off", dnsDomains: ["corp.example"] });
  await app.handle("settings:set", { ...DEFAULT_SETTINGS, dns: "split", dnsDomains: ["corp.example"] });
  for (let waited = 0; sessions.modes.length < 3 && waited < 5_000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(sessions.modes, ["all", "off", "split home.test,corp.example"]);
  assert.deepEqual(sessions.allowLocal, [], "untouched");
  await app.handle("settings:set", {
    ...DEFAULT_SETTINGS,
    dns: "split",
    dnsDomains: ["corp.example"],
    allowLocal: true,
  });
  assert.deepEqual(sessions.allowLocal, [true], "access to this computer applies at once too");
  assert.equal(sessions.modes.length, 3);
  await app.handle("session:disconnect", null);
});

/** Each target's agent is a fake of its own with one flow row (id 1), and records its disconnect. */
class TwoTargetSessions implements AppSessions {
  readonly closed: string[] = [];
  private readonly links = new WeakMap<SessionOptions["openAgent"], ReturnType<typeof fakeAgentLink>>();

  create(spec: SessionSpec): Session {
    const link = this.links.get(spec.openAgent);
    assert.ok(link, "the session's agent opener is one of ours");
    return new Session({ exitProvider: link.provider, openAgent: spec.openAgent, exit: spec.exit });
  }

  sudoPassword(): SudoPassword {
    return new SudoPassword(() => Promise.resolve(null));
  }

  remoteAgentOpener(target: Target): SessionOptions["openAgent"] {
    const name = targetName(target);
    const link = fakeAgentLink({
      progress: [{ "agent.routes": 1, "agent.ready": 1 }],
      flows: [testFlowRow(1, { destination: `${name}.test:80` })],
      onClose: () => this.closed.push(name),
    });
    const open: SessionOptions["openAgent"] = (step) => {
      step("agent");
      return Promise.resolve(link.transport);
    };
    this.links.set(open, link);
    return open;
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/** Something the app says in events and answers when asked; `what` names it in a timeout. */
interface Watched<T> {
  what: string;
  /** The value an event carries; undefined for other events. */
  carried(event: AppEvent): T | undefined;
  ask(app: AppController): Promise<T>;
}

const SESSION_LIST: Watched<SessionView[]> = {
  what: "session list",
  carried: (event) => (event.type === "sessions" ? event.sessions : undefined),
  ask: (app) => app.handle("sessions:list", null),
};

const SESSION_VIEW: Watched<SessionView> = {
  what: "session view",
  carried: (event) => (event.type === "session" ? event.session : undefined),
  ask: (app) => app.handle("session:get", null),
};

/** Waits for a value of `watched` that `done` accepts: the one asked now, or one an event carries. */
function waitForValue<T>(app: AppController, watched: Watched<T>, done: (value: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such ${watched.what} within 10 s`)), 10_000);
    const check = (value: T): void => {
      if (!done(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    const unsubscribe = app.subscribe((event) => {
      const value = watched.carried(event);
      if (value !== undefined) check(value);
    });
    void watched.ask(app).then(check);
  });
}

/** Waits for a session list that `done` accepts. */
const waitForSessions = (app: AppController, done: (views: SessionView[]) => boolean) =>
  waitForValue(app, SESSION_LIST, done);

const phases = (views: SessionView[]): string[] => views.map((v) => `${v.target?.id}:${v.phase}`);

test("two sessions at once: each listed, rows stamped and apart, one disconnect leaves the other", async (t) => {
  const sessions = new TwoTargetSessions();
  const { app } = await controller(t, sessions);
  await app.handle("session:connect", { targetId: "exec:sh -c one" });
  await app.handle("session:connect", { targetId: "exec:sh -c two" });
  await waitForSessions(app, (views) => views.length === 2 && views.every((v) => v.phase === "connected"));
  assert.equal((await app.handle("session:get", null)).target?.id, "exec:sh -c two", "the latest");
  const again = await app.handle("session:connect", { targetId: "exec:sh -c one" });
  assert.equal(again.phase, "connected", "a target already running is not connected twice");
  assert.equal((await app.handle("sessions:list", null)).length, 2);

  const { flows } = await app.handle("tables:snapshot", null);
  assert.deepEqual(
    flows.map((row) => [row.session, row.destination]).sort(),
    [
      ["exec:sh -c one", "exec:sh -c one.test:80"],
      ["exec:sh -c two", "exec:sh -c two.test:80"],
    ],
    "each row names its session",
  );
  assert.equal(new Set(flows.map((row) => row.id)).size, 2, "both exits' row 1 stay apart");

  const events: AppEvent[] = [];
  app.subscribe((event) => events.push(event));
  const ended = await app.handle("session:disconnect", { targetId: "exec:sh -c one" });
  assert.equal(ended.phase, "disconnected");
  assert.deepEqual(sessions.closed, ["exec:sh -c one"], "only its link closed");
  assert.deepEqual(phases(await app.handle("sessions:list", null)), ["exec:sh -c two:connected"]);
  assert.ok(
    events.some((e) => e.type === "tables-reset"),
    "the window fetches the tables again",
  );
  const left = await app.handle("tables:snapshot", null);
  assert.deepEqual(
    left.flows.map((row) => row.session),
    ["exec:sh -c two"],
  );
  assert.ok(
    !events.some(
      (e) =>
        e.type === "session" && e.session.target?.id === "exec:sh -c two" && e.session.phase !== "connected",
    ),
    "the other session never left connected",
  );

  await app.handle("session:disconnect", null);
  assert.deepEqual(sessions.closed, ["exec:sh -c one", "exec:sh -c two"]);
  assert.deepEqual(await app.handle("sessions:list", null), []);
});

/** Waits for a session view that `done` accepts. */
const waitFor = (app: AppController, done: (view: SessionView) => boolean) =>
  waitForValue(app, SESSION_VIEW, done);
