/**
 * The Electron shell as shipped, run under plain Node: dist/main/electron.cjs from `npm run build`,
 * laid out as electron-builder.yml packages it (its `files` in an app folder standing in for
 * app.asar, its `extraResources` in a resources folder), loaded with the recording fake of the
 * `electron` module (src/main/electron/fake-electron.ts) and app.isPackaged set, so paths.ts
 * takes the packaged branch. Nothing here is bundled again or swapped for a fake but Electron
 * itself: the session is the real sandbox target (a network namespace plays the remote, the real
 * agent and local helper run), so Quit is seen restoring it. The Electron binary cannot be
 * downloaded here; e2e/electron.test.ts runs the real one where it exists.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import Module, { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { REQUEST_CHANNELS, type SessionView } from "../src/shared/api.js";
import { fakeElectron, menuItem, until, type FakeElectron } from "../src/main/electron/fake-electron.js";
import { SESSION_PHASES, trayIconFor } from "../src/main/electron/tray-menu.js";
import { netnsSkipReason, skipSaying } from "./netns/preconditions.js";

const ROOT = new URL("../", import.meta.url).pathname;
const BUNDLE = join(ROOT, "dist", "main", "electron.cjs");
// js-yaml comes with electron-builder, which reads the same file with it.
const yaml = createRequire(import.meta.url)("js-yaml") as { load(text: string): unknown };

interface FileSet {
  from: string;
  to: string;
  filter?: string[];
}
interface BuilderConfig {
  files: string[];
  extraResources: FileSet[];
}

/**
 * Copies `pattern` ("dir/**", a file, or a file name with `*` in it) from `fromDir` to `toDir`,
 * leaving out source maps.
 */
function copyPattern(fromDir: string, toDir: string, pattern: string): void {
  const name = basename(pattern);
  if (!pattern.endsWith("/**") && name.includes("*")) {
    const dir = dirname(pattern);
    const glob = new RegExp(`^${name.split("*").map(escapeRegExp).join("[^/]*")}$`);
    const matches = readdirSync(join(fromDir, dir)).filter((file) => glob.test(file));
    assert.ok(
      matches.length > 0,
      `${join(fromDir, pattern)} matches a file (electron-builder.yml packages it)`,
    );
    for (const file of matches) copyPattern(fromDir, toDir, join(dir, file));
    return;
  }
  const path = pattern.endsWith("/**") ? pattern.slice(0, -3) : pattern;
  const source = join(fromDir, path);
  assert.ok(existsSync(source), `${source} exists (electron-builder.yml packages it)`);
  cpSync(source, join(toDir, path), { recursive: true, filter: (file) => !file.endsWith(".map") });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/** The packaged layout of the current dist/, as electron-builder.yml describes it. */
function packagedLayout(work: string): { appDir: string; resourcesDir: string } {
  const config = yaml.load(readFileSync(join(ROOT, "electron-builder.yml"), "utf8")) as BuilderConfig;
  const appDir = join(work, "app");
  const resourcesDir = join(work, "resources");
  for (const pattern of config.files) {
    if (pattern === "!**/*.map") continue; // copyPattern leaves maps out
    assert.ok(!pattern.startsWith("!"), `an exclusion this test does not know: ${pattern}`);
    copyPattern(ROOT, appDir, pattern);
  }
  for (const set of config.extraResources) {
    if (!set.filter) {
      const target = join(resourcesDir, set.to);
      mkdirSync(join(target, ".."), { recursive: true });
      cpSync(join(ROOT, set.from), target, { recursive: true });
      continue;
    }
    for (const pattern of set.filter) copyPattern(join(ROOT, set.from), join(resourcesDir, set.to), pattern);
  }
  return { appDir, resourcesDir };
}

/** Loads the shipped bundle afresh with `fake` as the `electron` module. */
function loadShell(fake: FakeElectron, bundle: string): () => void {
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = (request, ...rest) => (request === "electron" ? fake.electron : load(request, ...rest));
  const require = createRequire(import.meta.url);
  delete require.cache[bundle];
  require(bundle);
  return () => {
    loader._load = load;
  };
}

test(
  "the shipped shell, packaged layout, fake Electron, real sandbox session",
  { timeout: 120_000 },
  async (t) => {
    const skip = netnsSkipReason({ tun: true });
    if (skip) return skipSaying(t, skip);
    if (!existsSync(BUNDLE)) return skipSaying(t, `${BUNDLE} is not built: run npm run build`);

    // Under the repository, so that the bundle's external packages resolve from node_modules, as
    // they do from app.asar's own node_modules.
    const cacheDir = join(ROOT, "node_modules", ".cache");
    mkdirSync(cacheDir, { recursive: true });
    const work = mkdtempSync(join(cacheDir, "backhaul-shipped-shell-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const { appDir, resourcesDir } = packagedLayout(work);
    const bundle = join(appDir, "dist", "main", "electron.cjs");
    const userData = join(work, "user-data");
    const savedXdg = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = join(work, "config");
    const withResources = process as { resourcesPath?: string };
    const savedResources = withResources.resourcesPath;
    withResources.resourcesPath = resourcesDir;
    // The sandbox names its namespace after this process; whatever a failure leaves is removed.
    const namespace = `bh-sandbox-${process.pid}`;
    t.after(() => {
      if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = savedXdg;
      withResources.resourcesPath = savedResources;
      if (existsSync(join("/run/netns", namespace))) spawnSync("ip", ["netns", "del", namespace]);
      rmSync(join("/etc/netns", namespace), { recursive: true, force: true });
    });

    await t.test("a second instance takes no lock: it quits before making a window or a tray", () => {
      const second = fakeElectron({ userData, appPath: appDir, isPackaged: true, singleInstanceLock: false });
      loadShell(second, bundle)();
      assert.equal(second.calls.singleInstanceLock, 1);
      assert.equal(second.calls.quit, 1);
      assert.deepEqual(
        [second.BrowserWindow.all.length, second.Tray.all.length, second.handlers.size],
        [0, 0, 0],
      );
    });

    const fake = fakeElectron({ userData, appPath: appDir, isPackaged: true });
    t.after(loadShell(fake, bundle));
    const quitState: { namespace: boolean; journal: boolean }[] = [];
    const journal = join(userData, "sandbox-agent.journal");
    fake.app.onQuit = () =>
      quitState.push({ namespace: existsSync(join("/run/netns", namespace)), journal: existsSync(journal) });
    t.after(async () => {
      // A failure before Quit: quit now, so that the helper and the agent end and the sandbox goes.
      if (!fake.app.quitted) {
        fake.app.quit();
        await until("the app to quit after a failure", () => fake.app.quitted, 30_000).catch(() => undefined);
      }
    });
    const tray = await until("the tray", () => fake.Tray.all[0]);
    const window = await until("the window", () => fake.BrowserWindow.all[0]);
    assert.equal(fake.calls.singleInstanceLock, 1);

    await t.test("one IPC handler per API channel", () => {
      assert.deepEqual([...fake.handlers.keys()].sort(), [...REQUEST_CHANNELS].sort());
    });

    await t.test("the window is isolated and sandboxed, with the packaged preload and page", () => {
      const preferences = window.options.webPreferences;
      assert.deepEqual(
        [preferences.contextIsolation, preferences.sandbox, preferences.nodeIntegration],
        [true, true, false],
      );
      assert.equal(preferences.preload, join(appDir, "dist", "main", "preload.cjs"));
      assert.ok(statSync(String(preferences.preload)).isFile(), "the preload exists");
      assert.equal(window.loaded, join(appDir, "dist", "renderer", "index.html"));
      assert.ok(existsSync(window.loaded ?? ""), "the page exists");
    });

    await t.test("every state's tray icon is a file of the packaged resources", () => {
      for (const phase of SESSION_PHASES) {
        for (const platform of ["linux", "darwin", "win32"] as const) {
          const icon = join(resourcesDir, "icons", "tray", trayIconFor(phase, platform).file);
          assert.ok(existsSync(icon), `${phase} on ${platform}: ${icon}`);
        }
      }
      assert.equal(
        tray.image?.path,
        join(resourcesDir, "icons", "tray", trayIconFor("disconnected", process.platform).file),
      );
    });

    await t.test("Quit restores the sandbox's namespace before the app quits", async () => {
      const ownPage = { url: pathToFileURL(window.loaded ?? "").href, parent: null };
      const call = (channel: string, payload: unknown) =>
        Promise.resolve(fake.handlers.get(channel)?.({ senderFrame: ownPage }, payload));
      await call("session:connect", { targetId: "sandbox" });
      const connected = await until(
        "the sandbox session connected",
        async () => {
          const view = (await call("session:get", null)) as SessionView;
          assert.notEqual(view.phase, "error", view.message ?? "");
          return view.phase === "connected" && view;
        },
        30_000,
      );
      assert.equal(connected.target?.id, "sandbox");
      assert.ok(existsSync(join("/run/netns", namespace)), "the sandbox's namespace exists");
      assert.ok(existsSync(journal), "the agent journaled its changes");
      const icons = tray.images.map((path) => path.slice(join(resourcesDir, "icons", "tray").length + 1));
      assert.deepEqual(
        [icons[0], icons.at(-1)],
        [trayIconFor("disconnected", process.platform).file, trayIconFor("connected", process.platform).file],
      );
      assert.ok(icons.includes(trayIconFor("connecting", process.platform).file), icons.join(", "));
      for (const path of tray.images) assert.ok(existsSync(path), path);

      menuItem(tray.menu?.template, "quit")?.click?.();
      await until("the app to quit", () => fake.app.quitted, 30_000);
      assert.deepEqual(quitState, [{ namespace: false, journal: false }], "restored before the app quit");
      assert.equal(
        fake.calls.quit,
        2,
        "the first quit waits for the session to close, the second goes through",
      );
      assert.deepEqual(fake.calls.errorBoxes, []);
    });
  },
);
