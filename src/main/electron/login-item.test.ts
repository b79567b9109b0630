import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  applyAutostartFile,
  desktopExecArg,
  loginItemPlan,
  startsHidden,
  type LoginItemContext,
} from "./login-item.js";
import { appPaths } from "./paths.js";

function context(change: Partial<LoginItemContext> = {}): LoginItemContext {
  return {
    platform: "linux",
    isPackaged: true,
    execPath: "/opt/Backhaul/backhaul",
    appPath: "/opt/Backhaul/resources/app.asar",
    appImage: undefined,
    home: "/home/me",
    xdgConfigHome: undefined,
    ...change,
  };
}

test("macOS and Windows use Electron's login item; Windows starts the app hidden", () => {
  assert.deepEqual(loginItemPlan(context({ platform: "darwin" }), true), {
    kind: "electron",
    settings: { openAtLogin: true },
  });
  assert.deepEqual(
    loginItemPlan(context({ platform: "win32", execPath: "C:\\Backhaul\\Backhaul.exe" }), false),
    {
      kind: "electron",
      settings: { openAtLogin: false, path: "C:\\Backhaul\\Backhaul.exe", args: ["--hidden"] },
    },
  );
  const dev = loginItemPlan(
    context({ platform: "win32", isPackaged: false, execPath: "C:\\e\\electron.exe", appPath: "C:\\my app" }),
    true,
  );
  assert.deepEqual(dev.kind === "electron" && dev.settings.args, ['"C:\\my app"', "--hidden"]);
  assert.equal(loginItemPlan(context({ platform: "aix" }), true).kind, "unsupported");
});

test("Linux writes an XDG autostart entry, removed when turned off", () => {
  const on = loginItemPlan(context(), true);
  assert.equal(on.kind, "autostart-file");
  if (on.kind !== "autostart-file") return;
  assert.equal(on.path, "/home/me/.config/autostart/dev.backhaul.app.desktop");
  assert.match(on.content ?? "", /^\[Desktop Entry\]\nType=Application\nName=Backhaul\n/);
  assert.match(on.content ?? "", /\nExec=\/opt\/Backhaul\/backhaul --hidden\n/);

  assert.deepEqual(loginItemPlan(context({ xdgConfigHome: "/cfg" }), false), {
    kind: "autostart-file",
    path: "/cfg/autostart/dev.backhaul.app.desktop",
    content: null,
  });
  // A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
  const relative = loginItemPlan(context({ xdgConfigHome: "cfg" }), false);
  assert.equal(
    relative.kind === "autostart-file" && relative.path,
    "/home/me/.config/autostart/dev.backhaul.app.desktop",
  );

  const appImage = loginItemPlan(context({ appImage: "/home/me/Apps/Backhaul 0.1.AppImage" }), true);
  assert.match(
    appImage.kind === "autostart-file" ? (appImage.content ?? "") : "",
    /\nExec="\/home\/me\/Apps\/Backhaul 0\.1\.AppImage" --hidden\n/,
  );
  const dev = loginItemPlan(
    context({ isPackaged: false, execPath: "/w/node_modules/electron/dist/electron", appPath: "/w" }),
    true,
  );
  assert.match(
    dev.kind === "autostart-file" ? (dev.content ?? "") : "",
    /\nExec=\/w\/node_modules\/electron\/dist\/electron \/w --hidden\n/,
  );
});

test("Exec arguments are quoted and escaped as the Desktop Entry Specification asks", () => {
  assert.equal(desktopExecArg("/usr/bin/backhaul"), "/usr/bin/backhaul");
  assert.equal(desktopExecArg("/a b/c"), '"/a b/c"');
  assert.equal(desktopExecArg('/a"b$c`d'), '"/a\\\\"b\\\\$c\\\\`d"');
  assert.equal(desktopExecArg("/a\\b"), '"/a\\\\\\\\b"');
  assert.equal(desktopExecArg("/100%"), "/100%%");
  assert.throws(() => desktopExecArg("/a\nb"), /line break/);
});

test("the autostart entry is written and removed", () => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-autostart-"));
  try {
    const plan = loginItemPlan(context({ xdgConfigHome: dir }), true);
    assert.equal(plan.kind, "autostart-file");
    if (plan.kind !== "autostart-file") return;
    applyAutostartFile(plan);
    assert.equal(readFileSync(plan.path, "utf8"), plan.content);
    assert.equal(statSync(plan.path).mode & 0o777, 0o644);
    applyAutostartFile({ path: plan.path, content: null });
    assert.equal(existsSync(plan.path), false);
    applyAutostartFile({ path: plan.path, content: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a login launch stays in the tray", () => {
  assert.equal(startsHidden(["/opt/Backhaul/backhaul", "--hidden"], false), true);
  assert.equal(startsHidden(["/opt/Backhaul/backhaul"], true), true);
  assert.equal(startsHidden(["/opt/Backhaul/backhaul"], false), false);
});

test("files are found beside the bundle in development and in resources when packaged", () => {
  assert.deepEqual(appPaths({ isPackaged: false, mainDir: "/w/dist/main", resourcesPath: "/e/resources" }), {
    rendererIndex: "/w/dist/renderer/index.html",
    preload: "/w/dist/main/preload.cjs",
    distDir: "/w/dist",
    iconDir: "/w/resources",
  });
  assert.deepEqual(
    appPaths({
      isPackaged: true,
      mainDir: "/opt/B/resources/app.asar/dist/main",
      resourcesPath: "/opt/B/resources",
    }),
    {
      rendererIndex: "/opt/B/resources/app.asar/dist/renderer/index.html",
      preload: "/opt/B/resources/app.asar/dist/main/preload.cjs",
      distDir: "/opt/B/resources",
      iconDir: "/opt/B/resources/icons",
    },
  );
});
