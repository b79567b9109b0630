/**
 * The Electron shell's wiring, run under plain Node: main.ts is bundled as scripts/build.mjs
 * bundles it, then loaded with a fake `electron` module that records what the shell asks of it.
 * The real AppController answers behind it. This checks the shell's decisions reach Electron (IPC
 * handlers and their sender check, the window's web preferences and guards, the tray, the login
 * item, hide-on-close and Quit-after-disconnect); it cannot show that Electron honours them, which
 * e2e/electron.test.ts does where the Electron binary exists.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { REQUEST_CHANNELS, type AppInfo, type SessionView } from "../../shared/api.js";
import { event, fakeElectron, menuItem, until } from "./fake-electron.js";
import { RENDERER_CSP } from "./security.js";

const ROOT = new URL("../../../", import.meta.url).pathname;

test("the shell wires IPC, the window, the tray, the login item and Quit", { timeout: 60_000 }, async (t) => {
  // The bundle sits under the repository so that its external packages resolve from node_modules.
  const cacheDir = join(ROOT, "node_modules", ".cache");
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, "backhaul-main-test-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  await build({
    entryPoints: { electron: join(ROOT, "src/main/electron/main.ts") },
    outdir: join(work, "dist", "main"),
    outExtension: { ".js": ".cjs" },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    external: ["electron"],
    packages: "external",
    logLevel: "silent",
    define: { __BACKHAUL_VERSION__: JSON.stringify("0.0.0-test") },
    // Sessions get a fake agent and exit side that record what happens to them.
    plugins: [
      {
        name: "fake-session-factory",
        setup(bundle) {
          // Only the app's: the broker's session-factory.js, which the fake uses too, stays.
          bundle.onResolve({ filter: /\/session-factory\.js$/ }, (args) =>
            join(args.resolveDir, args.path) === join(ROOT, "src/main/app/session-factory.js")
              ? { path: join(ROOT, "src/main/electron/fake-session-factory.ts") }
              : undefined,
          );
        },
      },
    ],
  });
  symlinkSync(join(ROOT, "resources"), join(work, "resources"));
  const userData = join(work, "user-data");
  const xdgConfig = join(work, "config");
  const savedXdg = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = xdgConfig;
  t.after(() => {
    if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = savedXdg;
  });

  const fake = fakeElectron({ userData, appPath: ROOT });
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = (request, ...rest) => (request === "electron" ? fake.electron : load(request, ...rest));
  t.after(() => {
    loader._load = load;
  });
  createRequire(import.meta.url)(join(work, "dist", "main", "electron.cjs"));

  const tray = await until("the tray", () => fake.Tray.all[0]);
  const window = await until("the window", () => fake.BrowserWindow.all[0]);
  await until("the window shown", () => window.visible);

  await t.test("one IPC handler per request channel, answering only the app's own page", async () => {
    assert.deepEqual([...fake.handlers.keys()].sort(), [...REQUEST_CHANNELS].sort());
    const ownPage = { url: pathToFileURL(join(work, "dist", "renderer", "index.html")).href, parent: null };
    const info = (await fake.handlers.get("app:info")?.({ senderFrame: ownPage }, null)) as AppInfo;
    assert.equal(info.shell, "electron");
    assert.equal(info.version, "0.0.0-test");
    await assert.rejects(
      Promise.resolve(
        fake.handlers.get("app:info")?.({ senderFrame: { url: "file:///tmp/x.html", parent: null } }, null),
      ),
      /refused: the call did not come from Backhaul's own window/,
    );
    await assert.rejects(
      Promise.resolve(fake.handlers.get("app:info")?.({ senderFrame: null }, null)),
      /refused/,
    );
    await assert.rejects(
      Promise.resolve(fake.handlers.get("session:connect")?.({ senderFrame: ownPage }, { targetId: 7 })),
      /targetId/,
    );
  });

  await t.test("the window is sandboxed and isolated, and its guards are in place", () => {
    assert.deepEqual(
      {
        contextIsolation: window.options.webPreferences.contextIsolation,
        sandbox: window.options.webPreferences.sandbox,
        nodeIntegration: window.options.webPreferences.nodeIntegration,
        webSecurity: window.options.webPreferences.webSecurity,
        webviewTag: window.options.webPreferences.webviewTag,
      },
      { contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false },
    );
    assert.equal(window.options.webPreferences.preload, join(work, "dist", "main", "preload.cjs"));
    assert.equal(window.loaded, join(work, "dist", "renderer", "index.html"));

    for (const name of ["will-navigate", "will-frame-navigate", "will-redirect", "will-attach-webview"]) {
      const attempt = event();
      window.webContents.emit(name, attempt, "https://example.com/");
      assert.equal(attempt.defaultPrevented, true, name);
    }
    assert.deepEqual(window.webContents.openHandler?.({ url: "https://github.com/" }), { action: "deny" });
    assert.deepEqual(window.webContents.openHandler?.({ url: "file:///etc/passwd" }), { action: "deny" });
    assert.deepEqual(fake.calls.external, ["https://github.com/"]);

    let granted: boolean | undefined;
    fake.sessionHooks.permission?.(null, "notifications", (answer) => (granted = answer));
    assert.equal(granted, false);
    assert.equal(fake.sessionHooks.check?.(), false);
    let headers: unknown;
    fake.sessionHooks.headers?.(
      { url: "file:///x/index.html", resourceType: "mainFrame", responseHeaders: {} },
      (r) => {
        headers = r;
      },
    );
    assert.deepEqual(headers, { responseHeaders: { "Content-Security-Policy": [RENDERER_CSP] } });
  });

  await t.test("the tray shows the session, with its icon on disk", () => {
    assert.ok(tray.image?.path.endsWith(join("resources", "tray", "disconnected.png")), tray.image?.path);
    assert.ok(existsSync(tray.image?.path ?? ""), "the icon file exists");
    assert.equal(tray.tooltip, "Backhaul: not connected");
    assert.equal(menuItem(tray.menu?.template, "status")?.label, "Not connected");
    assert.equal(menuItem(tray.menu?.template, "disconnect")?.enabled, false);
  });

  await t.test("Start at login follows the saved setting, here as an XDG autostart entry", async () => {
    const autostart = join(xdgConfig, "autostart", "dev.backhaul.app.desktop");
    assert.equal(existsSync(autostart), false);
    menuItem(tray.menu?.template, "start-at-login")?.click?.();
    await until("the autostart entry", () => existsSync(autostart));
    assert.match(readFileSync(autostart, "utf8"), /\nExec=.* --hidden\n/);
    await until(
      "the checked menu item",
      () => menuItem(tray.menu?.template, "start-at-login")?.checked === true,
    );
    const saved = JSON.parse(readFileSync(join(userData, "settings.json"), "utf8")) as {
      startAtLogin?: boolean;
    };
    assert.equal(saved.startAtLogin, true, "the setting is saved");

    menuItem(tray.menu?.template, "start-at-login")?.click?.();
    await until("the autostart entry removed", () => !existsSync(autostart));
  });

  await t.test("closing the window hides it; the app stays", () => {
    window.close();
    assert.equal(window.destroyed, false);
    assert.equal(window.visible, false);
    assert.equal(fake.app.quitted, false);
    menuItem(tray.menu?.template, "show-window")?.click?.();
    assert.equal(window.visible, true);
  });

  await t.test("Quit closes the session first, then quits", async () => {
    const ownPage = { url: pathToFileURL(join(work, "dist", "renderer", "index.html")).href, parent: null };
    const call = (channel: string, payload: unknown) =>
      Promise.resolve(fake.handlers.get(channel)?.({ senderFrame: ownPage }, payload));
    const events: string[] = [];
    globalThis.backhaulFakeSessionEvents = events; // fake-session-factory.ts records there
    await call("session:connect", { targetId: "ssh://fake@198.18.9.9" });
    await until(
      "the session connected",
      async () => ((await call("session:get", null)) as SessionView).phase === "connected",
    );
    assert.deepEqual(events, ["fake agent started"]);
    fake.app.onQuit = () => events.push("app quit");

    menuItem(tray.menu?.template, "quit")?.click?.();
    await until("the app to quit", () => fake.app.quitted);
    assert.deepEqual(events, [
      "fake agent started",
      "fake link closed: the user disconnected",
      "fake agent exited: the remote is restored",
      "fake helper stopped",
      "app quit",
    ]);
    assert.equal(
      fake.calls.quit,
      2,
      "the first quit waits for the session to close, the second goes through",
    );
    assert.equal(tray.destroyed, true);
    window.close();
    assert.equal(window.destroyed, true, "while quitting, closing the window really closes it");
    assert.deepEqual(fake.calls.errorBoxes, []);
    assert.deepEqual(fake.calls.exit, []);
  });
});
