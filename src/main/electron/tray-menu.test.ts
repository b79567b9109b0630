import assert from "node:assert/strict";
import { test } from "node:test";
import type { SessionPhase, SessionView, TargetSummary } from "../../shared/api.js";
import { testSessionView } from "../../shared/test-session-view.js";
import { menuTemplate } from "./menu-template.js";
import {
  formatDuration,
  nextMenuRefreshMs,
  nextMenuRefreshMsOf,
  SESSION_PHASES,
  splitTargets,
  statusLine,
  trayIconFor,
  trayMenu,
  trayPhase,
  type TrayAction,
  type TrayMenuInput,
  type TrayMenuItem,
} from "./tray-menu.js";

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

function target(id: string, label: string, detail = ""): TargetSummary {
  return { id, kind: "ssh", label, detail, codespace: null, lastUsedAt: null };
}

function input(change: Partial<TrayMenuInput> = {}): TrayMenuInput {
  return {
    session: testSessionView("disconnected", { target: null }),
    recents: [target("devbox", "devbox")],
    available: [target("sandbox", "This computer (sandbox)"), target("build", "build")],
    startAtLogin: false,
    platform: "linux",
    now: NOW,
    ...change,
  };
}

type Entry = Exclude<TrayMenuItem, { type: "separator" }>;

function item(items: TrayMenuItem[], id: string): Entry {
  const found = items.find((entry): entry is Entry => entry.type !== "separator" && entry.id === id);
  assert.ok(found, `menu item ${id}`);
  return found;
}

function connectIds(items: TrayMenuItem[]): string[] {
  const connect = item(items, "connect");
  assert.equal(connect.type, "submenu");
  return connect.type === "submenu"
    ? connect.submenu.map((entry) => (entry.type === "separator" ? "---" : entry.id))
    : [];
}

const SESSIONS: Record<SessionPhase, SessionView> = {
  disconnected: testSessionView("disconnected", { target: null }),
  connecting: testSessionView("connecting", { step: "upload" }),
  connected: testSessionView("connected", { connectedSince: NOW - (3600 + 120) * 1000 }),
  reconnecting: testSessionView("reconnecting", {
    retryAt: NOW + 3_200,
    message: "The link to devbox dropped.",
  }),
  error: testSessionView("error", { message: "Permission denied (publickey) for me@devbox." }),
};

/** canConnect: to devbox again; other targets can always be connected, beside a running session. */
const EXPECTED: Record<SessionPhase, { status: string; canConnect: boolean; canDisconnect: boolean }> = {
  disconnected: { status: "Not connected", canConnect: true, canDisconnect: false },
  connecting: {
    status: "Connecting to devbox: uploading the agent…",
    canConnect: false,
    canDisconnect: true,
  },
  connected: { status: "Connected to devbox · 1h 02m", canConnect: false, canDisconnect: true },
  reconnecting: { status: "Reconnecting to devbox in 4 s…", canConnect: false, canDisconnect: true },
  error: {
    status: "Error: Permission denied (publickey) for me@devbox.",
    canConnect: true,
    canDisconnect: false,
  },
};

for (const phase of SESSION_PHASES) {
  test(`tray menu while ${phase}`, () => {
    const items = trayMenu(input({ session: SESSIONS[phase] }));
    const expected = EXPECTED[phase];
    const status = item(items, "status");
    assert.equal(status.label, expected.status);
    assert.equal(status.enabled, false, "the status line is not clickable");

    const connect = item(items, "connect");
    assert.equal(connect.enabled, true);
    assert.equal(connect.label, "Connect to");
    if (connect.type === "submenu")
      for (const entry of connect.submenu)
        if (entry.type !== "separator")
          assert.equal(entry.enabled, entry.id === "connect:devbox" ? expected.canConnect : true, entry.id);

    const disconnect = item(items, "disconnect");
    assert.equal(disconnect.enabled, expected.canDisconnect);
    assert.deepEqual(disconnect.type === "normal" && disconnect.action, { kind: "disconnect" });

    assert.equal(item(items, "show-window").enabled, true, "the window can always be shown");
    assert.equal(item(items, "start-at-login").type, "checkbox");
    assert.deepEqual(
      items
        .map((entry) => (entry.type === "separator" ? "---" : entry.id))
        .filter((id) => id !== "status-detail"),
      ["status", "---", "connect", "disconnect", "---", "show-window", "start-at-login", "---", "quit"],
    );
  });
}

test("the reason for a reconnect or a disconnect is a second, greyed line", () => {
  const reconnecting = trayMenu(input({ session: SESSIONS.reconnecting }));
  assert.equal(item(reconnecting, "status-detail").label, "The link to devbox dropped.");
  assert.equal(item(reconnecting, "status-detail").enabled, false);

  const disconnected = trayMenu(
    input({ session: testSessionView("disconnected", { message: "The remote closed the session." }) }),
  );
  assert.equal(item(disconnected, "status-detail").label, "The remote closed the session.");

  for (const phase of ["connected", "error", "connecting"] as const)
    assert.ok(
      !trayMenu(input({ session: SESSIONS[phase] })).some(
        (entry) => entry.type !== "separator" && entry.id === "status-detail",
      ),
      phase,
    );
});

test("Connect to lists recent targets first, then the others, each connecting to its id", () => {
  const items = trayMenu(input());
  assert.deepEqual(connectIds(items), ["connect:devbox", "---", "connect:sandbox", "connect:build"]);
  const connect = item(items, "connect");
  const sandbox = connect.type === "submenu" ? connect.submenu[2] : undefined;
  assert.deepEqual(sandbox, {
    type: "normal",
    id: "connect:sandbox",
    label: "This computer (sandbox)",
    enabled: true,
    action: { kind: "connect", targetId: "sandbox" },
  });

  assert.deepEqual(connectIds(trayMenu(input({ recents: [] }))), ["connect:sandbox", "connect:build"]);
  assert.deepEqual(connectIds(trayMenu(input({ recents: [], available: [] }))), ["connect:none"]);
  const none = item(trayMenu(input({ recents: [], available: [] })), "connect");
  assert.equal(
    none.type === "submenu" && none.submenu[0]?.type === "normal" && none.submenu[0].enabled,
    false,
  );
});

test("targets with the same label are told apart by their detail; long labels are cut", () => {
  const items = trayMenu(
    input({
      recents: [],
      available: [
        { ...target("codespace:a", "my-space", "me/api"), kind: "codespace" },
        { ...target("codespace:b", "my-space", "me/web"), kind: "codespace" },
        target("long", "x".repeat(200)),
      ],
    }),
  );
  const connect = item(items, "connect");
  const labels =
    connect.type === "submenu"
      ? connect.submenu.map((entry) => (entry.type === "separator" ? "" : entry.label))
      : [];
  assert.deepEqual(labels.slice(0, 2), ["my-space (me/api)", "my-space (me/web)"]);
  assert.equal(labels[2]?.length, 64);
  assert.ok(labels[2]?.endsWith("…"));
});

test("Start at login is a checkbox that toggles; Quit is named as each OS names it", () => {
  const off = item(trayMenu(input({ startAtLogin: false })), "start-at-login");
  assert.deepEqual(off.type === "checkbox" && [off.checked, off.action], [
    false,
    { kind: "set-start-at-login", enabled: true },
  ]);
  const on = item(trayMenu(input({ startAtLogin: true })), "start-at-login");
  assert.deepEqual(on.type === "checkbox" && [on.checked, on.action], [
    true,
    { kind: "set-start-at-login", enabled: false },
  ]);
  assert.equal(item(trayMenu(input({ platform: "darwin" })), "start-at-login").label, "Open at Login");

  assert.equal(item(trayMenu(input({ platform: "darwin" })), "quit").label, "Quit Backhaul");
  assert.equal(item(trayMenu(input({ platform: "win32" })), "quit").label, "Exit");
  assert.equal(item(trayMenu(input({ platform: "linux" })), "quit").label, "Quit");
});

test("status lines for every step and attempt, and the countdown reaching zero", () => {
  assert.equal(statusLine(testSessionView("connecting", { step: null }), NOW), "Connecting to devbox…");
  assert.equal(
    statusLine(testSessionView("connecting", { step: "ssh", attempt: 3 }), NOW),
    "Connecting to devbox: SSH… (attempt 3)",
  );
  assert.equal(
    statusLine(testSessionView("connecting", { target: null, step: "dns" }), NOW),
    "Connecting: DNS…",
  );
  assert.equal(statusLine(testSessionView("reconnecting", { retryAt: NOW }), NOW), "Reconnecting to devbox…");
  assert.equal(
    statusLine(testSessionView("reconnecting", { retryAt: NOW + 1 }), NOW),
    "Reconnecting to devbox in 1 s…",
  );
  assert.equal(
    statusLine(testSessionView("reconnecting", { retryAt: null, target: null }), NOW),
    "Reconnecting…",
  );
  assert.equal(
    statusLine(testSessionView("connected", { connectedSince: NOW - 5_000 }), NOW),
    "Connected to devbox · 5s",
  );
  assert.equal(
    statusLine(testSessionView("connected", { connectedSince: null }), NOW),
    "Connected to devbox",
  );
  assert.equal(statusLine(testSessionView("error", { message: null }), NOW), "Error: the session failed");
  assert.equal(statusLine(testSessionView("error", { message: "a\n  b" }), NOW), "Error: a b");
});

test("durations read as the status line shows them", () => {
  assert.equal(formatDuration(-5), "0s");
  assert.equal(formatDuration(59_999), "59s");
  assert.equal(formatDuration(60_000), "1m");
  assert.equal(formatDuration(3_599_000), "59m");
  assert.equal(formatDuration(3_720_000), "1h 02m");
  assert.equal(formatDuration(86_400_000 + 4 * 3_600_000), "1d 04h");
});

test("the menu is rebuilt exactly when its uptime or countdown would change", () => {
  assert.equal(nextMenuRefreshMs(SESSIONS.disconnected, NOW), null);
  assert.equal(nextMenuRefreshMs(SESSIONS.error, NOW), null);
  assert.equal(nextMenuRefreshMs(SESSIONS.connecting, NOW), null);
  assert.equal(nextMenuRefreshMs(testSessionView("reconnecting", { retryAt: NOW + 3_200 }), NOW), 200);
  assert.equal(nextMenuRefreshMs(testSessionView("reconnecting", { retryAt: NOW + 3_000 }), NOW), 1000);
  assert.equal(nextMenuRefreshMs(testSessionView("reconnecting", { retryAt: NOW }), NOW), null);
  assert.equal(nextMenuRefreshMs(testSessionView("connected", { connectedSince: NOW - 1_500 }), NOW), 500);
  assert.equal(
    nextMenuRefreshMs(testSessionView("connected", { connectedSince: NOW - 90_000 }), NOW),
    30_000,
  );
  assert.equal(
    nextMenuRefreshMs(testSessionView("connected", { connectedSince: NOW - 86_400_000 }), NOW),
    3_600_000,
  );

  // Each computed wait lands on a changed status line, and the line does not change before it.
  for (const view of [testSessionView("reconnecting", { retryAt: NOW + 3_200 }), SESSIONS.connected]) {
    const wait = nextMenuRefreshMs(view, NOW) ?? 0;
    assert.equal(statusLine(view, NOW + wait - 1), statusLine(view, NOW));
    assert.notEqual(statusLine(view, NOW + wait), statusLine(view, NOW));
  }
});

test("recents come first, newest first, at most five; unlisted recent ids are still offered", () => {
  const listed = [target("a", "A"), target("b", "B"), target("sandbox", "This computer (sandbox)")];
  const { recents, available } = splitTargets({
    targets: listed,
    recents: ["b", "ssh://me@devbox:2222", "codespace:gone", "b", "x1", "x2", "x3"],
    warnings: [],
  });
  assert.deepEqual(
    recents.map((entry) => [entry.id, entry.kind, entry.label]),
    [
      ["b", "ssh", "B"],
      ["ssh://me@devbox:2222", "ssh", "ssh://me@devbox:2222"],
      ["codespace:gone", "codespace", "gone"],
      ["x1", "ssh", "x1"],
      ["x2", "ssh", "x2"],
    ],
  );
  assert.deepEqual(
    available.map((entry) => entry.id),
    ["a", "sandbox"],
  );
});

test("one icon per phase; macOS gets template images", () => {
  const files = new Set<string>();
  for (const phase of SESSION_PHASES) {
    const linux = trayIconFor(phase, "linux");
    assert.equal(linux.file, `${phase}.png`);
    assert.equal(linux.template, false);
    assert.equal(trayIconFor(phase, "win32").file, `${phase}.png`);
    const mac = trayIconFor(phase, "darwin");
    assert.deepEqual([mac.file, mac.template], [`${phase}Template.png`, true]);
    assert.match(linux.tooltip, /^Backhaul: /);
    files.add(linux.file);
  }
  assert.equal(files.size, SESSION_PHASES.length);
  assert.equal(trayIconFor("connected", "linux").tooltip, "Backhaul: connected");
});

test("the Electron template keeps ids, states and actions, and escapes ampersands off macOS", () => {
  const actions: TrayAction[] = [];
  const items = trayMenu(
    input({
      session: SESSIONS.connected,
      recents: [],
      available: [target("rd", "R&D box")],
      startAtLogin: true,
    }),
  );
  const linux = menuTemplate(items, "linux", (action) => actions.push(action));
  const connect = linux.find((entry) => entry.id === "connect");
  assert.equal(connect?.type, "submenu");
  assert.equal(connect?.enabled, true, "another target can be connected beside the running session");
  const submenu = connect?.submenu;
  assert.ok(Array.isArray(submenu));
  assert.equal(submenu[0]?.label, "R&&D box");
  const macSubmenu = menuTemplate(items, "darwin", () => undefined).find((e) => e.id === "connect")?.submenu;
  assert.ok(Array.isArray(macSubmenu));
  assert.equal(macSubmenu[0]?.label, "R&D box");

  const startAtLogin = linux.find((entry) => entry.id === "start-at-login");
  assert.deepEqual([startAtLogin?.type, startAtLogin?.checked], ["checkbox", true]);
  assert.equal(
    linux.find((entry) => entry.id === "status")?.click,
    undefined,
    "the status line has no action",
  );
  assert.equal(linux.filter((entry) => entry.type === "separator").length, 3);

  for (const id of ["disconnect", "start-at-login", "quit"]) {
    const click = linux.find((entry) => entry.id === id)?.click as (() => void) | undefined;
    click?.();
  }
  (submenu[0]?.click as (() => void) | undefined)?.();
  assert.deepEqual(actions, [
    { kind: "disconnect" },
    { kind: "set-start-at-login", enabled: false },
    { kind: "quit" },
    { kind: "connect", targetId: "rd" },
  ]);
});

test("several sessions: each with its state and its own Disconnect; the icon shows the most pressing", () => {
  const build: SessionView = testSessionView("reconnecting", {
    target: { id: "build", label: "build" },
    retryAt: NOW + 2_000,
    message: "link lost: EOF",
  });
  const failed: SessionView = testSessionView("error", {
    target: { id: "sandbox", label: "This computer (sandbox)" },
    message: "the sandbox needs root",
  });
  const sessions = [SESSIONS.connected, build, failed];
  const items = trayMenu(input({ session: build, sessions }));
  assert.deepEqual(
    items.map((entry) => (entry.type === "separator" ? "---" : entry.id)),
    [
      "status:devbox",
      "disconnect:devbox",
      "---",
      "status:build",
      "status-detail:build",
      "disconnect:build",
      "---",
      "status:sandbox",
      "disconnect:sandbox",
      "---",
      "connect",
      "disconnect",
      "---",
      "show-window",
      "start-at-login",
      "---",
      "quit",
    ],
  );
  assert.equal(item(items, "status:devbox").label, "Connected to devbox · 1h 02m");
  assert.equal(item(items, "status:build").label, "Reconnecting to build in 2 s…");
  assert.equal(item(items, "status:sandbox").label, "This computer (sandbox): Error: the sandbox needs root");
  const own = item(items, "disconnect:build");
  assert.equal(own.label, "Disconnect build");
  assert.deepEqual(own.type === "normal" && own.action, { kind: "disconnect", targetId: "build" });
  assert.equal(item(items, "disconnect:sandbox").label, "Forget This computer (sandbox)");
  assert.equal(item(items, "disconnect").label, "Disconnect all");
  const connect = item(items, "connect");
  const enabled =
    connect.type === "submenu"
      ? connect.submenu.flatMap((e) => (e.type === "separator" ? [] : [[e.id, e.enabled]]))
      : [];
  assert.deepEqual(enabled, [
    ["connect:devbox", false],
    ["connect:sandbox", true],
    ["connect:build", false],
  ]);
  assert.equal(trayPhase({ session: build, sessions }), "reconnecting");
  assert.equal(trayPhase({ session: build, sessions: [SESSIONS.connected, failed] }), "connected");
  assert.equal(trayPhase({ session: failed, sessions: [failed] }), "error");
  assert.equal(trayPhase({ session: SESSIONS.disconnected, sessions: [] }), "disconnected");
  assert.equal(nextMenuRefreshMsOf({ session: build, sessions }, NOW), 1_000, "the countdown ticks first");
});
