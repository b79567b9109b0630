/**
 * electron-builder.yml, scripts/dist.mjs and the icons in resources/, checked without packaging:
 * the installers carry the helper, the agent and its addon where paths.ts looks for them, and
 * `npm run dist` plans what this machine can build and says why not the rest.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { appPaths } from "./paths.js";
import { SESSION_PHASES, trayIconFiles } from "./tray-menu.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
// js-yaml comes with electron-builder, which reads the same file with it.
const yaml = createRequire(import.meta.url)("js-yaml") as { load(text: string): unknown };

interface FileSet {
  from: string;
  to: string;
  filter?: string[];
}
interface TargetEntry {
  target: string;
  arch?: string[];
}
interface BuilderConfig {
  appId: string;
  productName: string;
  directories: { output: string; buildResources: string };
  files: string[];
  extraResources: FileSet[];
  mac: { target: TargetEntry[]; category: string; icon: string };
  win: { target: TargetEntry[]; icon: string };
  linux: { target: string[]; category: string; icon: string; maintainer: string };
}

const config = yaml.load(readFileSync(join(ROOT, "electron-builder.yml"), "utf8")) as BuilderConfig;

interface DistPlan {
  builds: { name: string; args: string[]; electron: string }[];
  cannot: { name: string; why: string }[];
}
interface DistModule {
  planDist(input: {
    host: string;
    hostArch: string;
    dirOnly: boolean;
    version: string;
    sources: Record<string, { path: string; from: string } | null>;
    online: boolean;
    wine: boolean;
  }): DistPlan;
  electronSource(input: {
    version: string;
    platform: string;
    arch: string;
    env: Record<string, string | undefined>;
    cacheDirs: string[];
  }): { path: string; from: string } | null;
  electronCacheDirs(env: Record<string, string | undefined>, platform: string, home: string): string[];
}
const DIST_SCRIPT = join(ROOT, "scripts", "dist.mjs");
const loadDist = async () => (await import(new URL(`file://${DIST_SCRIPT}`).href)) as DistModule;

function extraResource(from: string): FileSet {
  const entry = config.extraResources.find((set) => set.from === from);
  assert.ok(entry, `extraResources has ${from}`);
  return entry;
}

test("the app's identity and what goes into app.asar", () => {
  assert.equal(config.appId, "dev.backhaul.app");
  assert.equal(config.productName, "Backhaul");
  assert.equal(config.directories.buildResources, "resources");
  for (const pattern of ["package.json", "dist/main/**", "dist/renderer/**", "dist/cli.mjs", "!**/*.map"])
    assert.ok(config.files.includes(pattern), pattern);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    main: string;
    scripts: Record<string, string>;
  };
  assert.equal(pkg.main, "dist/main/electron.cjs", "the packaged app starts the Electron main bundle");
  assert.equal(pkg.scripts.dist, "node scripts/dist.mjs");
});

test("the helper, the agent and its addon, and the icons are extra resources where paths.ts looks", () => {
  const resources = "/opt/Backhaul/resources";
  const packaged = appPaths({
    isPackaged: true,
    mainDir: `${resources}/app.asar/dist/main`,
    resourcesPath: resources,
  });

  const agent = extraResource("dist/agent");
  // The agent, its addon for x64 and arm64 remotes, and the Node.js runtimes for remotes without one.
  assert.deepEqual(agent.filter?.sort(), [
    "arm64/backhaul_native.node",
    "backhaul-agent.cjs",
    "backhaul_native.node",
    "node-linux-*.gz",
    "node-runtimes.json",
  ]);
  assert.equal(join(resources, agent.to), join(packaged.distDir, "agent"));

  const helper = extraResource("dist/helper-local.mjs");
  assert.equal(join(resources, helper.to), join(packaged.distDir, "helper-local.mjs"));
  const helperAddon = extraResource("dist/backhaul_native.node");
  assert.equal(join(resources, helperAddon.to), join(packaged.distDir, "backhaul_native.node"));

  const icons = extraResource("resources");
  assert.equal(join(resources, icons.to), packaged.iconDir);
  assert.deepEqual(icons.filter?.sort(), ["icon.png", "tray/**"]);
});

test("macOS dmg for x64 and arm64, Windows nsis, Linux AppImage and deb", () => {
  assert.deepEqual(config.mac.target, [{ target: "dmg", arch: ["x64", "arm64"] }]);
  assert.equal(config.mac.category, "public.app-category.developer-tools");
  assert.deepEqual(
    config.win.target.map((entry) => entry.target),
    ["nsis"],
  );
  assert.deepEqual(config.linux.target, ["AppImage", "deb"]);
  assert.equal(config.linux.category, "Development");
  assert.match(config.linux.maintainer, /<[^>]+@[^>]+>/, "deb needs a maintainer with an email");
  for (const icon of [config.mac.icon, config.win.icon, config.linux.icon])
    assert.ok(existsSync(join(ROOT, icon)), icon);
});

/** Width and height from a PNG's IHDR, and whether it is 8-bit RGBA. */
function pngInfo(path: string): { width: number; height: number; rgba: boolean } {
  const data = readFileSync(path);
  assert.equal(data.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", `${path} is a PNG`);
  return {
    width: data.readUInt32BE(16),
    height: data.readUInt32BE(20),
    rgba: data[24] === 8 && data[25] === 6,
  };
}

test("every tray icon exists at 16 and 32 pixels, and the app icon at 512", () => {
  for (const phase of SESSION_PHASES) {
    for (const file of trayIconFiles(phase)) {
      const info = pngInfo(join(ROOT, "resources", "tray", file));
      const size = file.includes("@2x") ? 32 : 16;
      assert.deepEqual(info, { width: size, height: size, rgba: true }, file);
    }
  }
  assert.deepEqual(pngInfo(join(ROOT, "resources", "icon.png")), { width: 512, height: 512, rgba: true });
  const ico = readFileSync(join(ROOT, "resources", "icon.ico"));
  assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2)], [0, 1], "an icon file");
  assert.ok(ico.readUInt16LE(4) >= 4, "several sizes");
});

test("dist plans only what this machine can build, and says why not the rest", async () => {
  const { planDist } = await loadDist();
  const zip = { path: "/cache/electron/abc", from: "Electron's download cache" };
  const none = { "linux-x64": null, "darwin-x64": null, "darwin-arm64": null, "win32-x64": null };
  // Each case says how its machine differs from Linux x64, offline, without wine or a cached zip.
  const plan = (machine: Partial<Parameters<DistModule["planDist"]>[0]>) =>
    planDist({
      host: "linux",
      hostArch: "x64",
      dirOnly: false,
      version: "45.4.1",
      sources: none,
      online: false,
      wine: false,
      ...machine,
    });

  // Here: Linux, no Electron anywhere, GitHub unreachable, no wine.
  const here = plan({ dirOnly: true });
  assert.deepEqual(here.builds, []);
  assert.equal(here.cannot.length, 1);
  assert.equal(here.cannot[0]?.name, "Linux dir (x64)");
  assert.match(here.cannot[0]?.why ?? "", /electron-v45\.4\.1-linux-x64\.zip\) is missing.*GitHub/);

  const all = plan({});
  assert.deepEqual(
    all.cannot.map((entry) => entry.name),
    ["Linux AppImage and deb (x64)", "macOS dmg (x64, arm64)", "Windows nsis (x64)"],
  );
  assert.match(all.cannot[1]?.why ?? "", /only be built on macOS/);
  assert.match(all.cannot[2]?.why ?? "", /Windows, or on Linux with wine/);

  // With the zip in the cache, offline: the dir target builds; installers need electron-builder's tools.
  const cached = plan({ dirOnly: true, sources: { ...none, "linux-x64": zip } });
  assert.deepEqual(cached.builds, [
    {
      name: "Linux dir (x64)",
      args: ["--linux", "dir", "--x64", "--publish", "never", "-c.electronDist=/cache/electron/abc"],
      electron: "Electron's download cache",
    },
  ]);
  const offlineInstallers = plan({ sources: { ...none, "linux-x64": zip }, wine: true });
  assert.match(offlineInstallers.cannot[0]?.why ?? "", /tools that make these installers/);

  // Online on a Mac: both dmg architectures, Electron downloaded by electron-builder.
  const mac = plan({ host: "darwin", hostArch: "arm64", online: true });
  assert.deepEqual(
    mac.builds.map((build) => build.args.join(" ")),
    [
      "--linux AppImage deb --x64 --publish never",
      "--mac dmg --x64 --publish never",
      "--mac dmg --arm64 --publish never",
    ],
  );
  assert.deepEqual(
    mac.cannot.map((entry) => entry.name),
    ["Windows nsis (x64)"],
  );

  // Online on Linux with wine: the Windows installer too.
  const wine = plan({ online: true, wine: true });
  assert.deepEqual(
    wine.builds.map((build) => build.name),
    ["Linux AppImage and deb (x64)", "Windows nsis (x64)"],
  );
});

test("dist finds the Electron zip where @electron/get caches it", async () => {
  const { electronSource, electronCacheDirs } = await loadDist();
  assert.deepEqual(electronCacheDirs({}, "linux", "/home/me"), ["/home/me/.cache/electron"]);
  assert.deepEqual(
    electronCacheDirs({ XDG_CACHE_HOME: "/c", electron_config_cache: "/e" }, "linux", "/home/me"),
    ["/e", "/c/electron"],
  );
  assert.deepEqual(electronCacheDirs({}, "darwin", "/Users/me"), ["/Users/me/Library/Caches/electron"]);

  const cache = mkdtempSync(join(tmpdir(), "backhaul-electron-cache-"));
  try {
    const input = { version: "45.4.1", platform: "darwin", arch: "arm64", env: {}, cacheDirs: [cache] };
    assert.equal(electronSource(input), null);
    const hashed = join(cache, "0f1e2d3c");
    mkdirSync(hashed);
    writeFileSync(join(hashed, "electron-v45.4.1-darwin-arm64.zip"), "");
    assert.deepEqual(electronSource(input), { path: hashed, from: "Electron's download cache" });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("npm run dist -- --dry-run prints the plan and exits 0", () => {
  const cache = mkdtempSync(join(tmpdir(), "backhaul-electron-cache-"));
  try {
    const result = spawnSync(process.execPath, [DIST_SCRIPT, "--dir", "--dry-run"], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        electron_config_cache: cache,
        XDG_CACHE_HOME: cache,
        BACKHAUL_ELECTRON_DIST: "",
      },
      timeout: 30_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /(Linux|macOS|Windows) dir \(\w+\)/);
    const bad = spawnSync(process.execPath, [DIST_SCRIPT, "--nope"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --nope/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
