/**
 * `npm run dist -- --dir` packages the app with electron-builder, and the package holds what runs
 * beside the app: the local helper, the remote agent and its native addon, and the icons.
 *
 * With a real Electron distribution (node_modules/electron/dist, a zip in Electron's cache, or
 * $BACKHAUL_ELECTRON_DIST), the first test packages the real thing; without one (Electron comes
 * from GitHub releases, outside the npm registry) it says so and skips. The second test packages
 * with a stand-in distribution (a fake `electron` executable) to check, wherever it runs on Linux,
 * the layout that electron-builder.yml produces; it proves nothing about Electron itself.
 *
 * Both package the dist/ the suite already built (--skip-build): rebuilding it would pull it from
 * under the suites running beside this one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { skipSaying, whenMet } from "./netns/preconditions.js";

const ROOT = new URL("..", import.meta.url).pathname;
const DIST_SCRIPT = join(ROOT, "scripts", "dist.mjs");
const asar = createRequire(import.meta.url)("@electron/asar") as { listPackage(path: string): string[] };

interface DistModule {
  electronVersion(): string;
  electronSource(input: {
    version: string;
    platform: string;
    arch: string;
  }): { path: string; from: string } | null;
}

/** Why dist/ cannot be packaged, or undefined. */
function distMissing(): string | undefined {
  for (const file of [
    "main/electron.cjs",
    "helper-local.mjs",
    "backhaul_native.node",
    "agent/backhaul-agent.cjs",
    "agent/backhaul_native.node",
  ])
    if (!existsSync(join(ROOT, "dist", file)))
      return `dist/${file} is missing: run \`npm run build:native && npm run build\``;
  return undefined;
}

function runDist(t: TestContext, env: NodeJS.ProcessEnv): string {
  const out = mkdtempSync(join(tmpdir(), "backhaul-dist-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const result = spawnSync(process.execPath, [DIST_SCRIPT, "--dir", "--skip-build", `--out=${out}`], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  assert.equal(result.status, 0, `npm run dist -- --dir failed:\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /dist: built into .*: .* dir \(/);
  const unpacked = readdirSync(out).find((entry) => entry.endsWith("-unpacked"));
  assert.ok(unpacked, `an unpacked app in ${out}: ${readdirSync(out).join(", ")}`);
  return join(out, unpacked);
}

function checkPackage(unpacked: string): void {
  const resources = join(unpacked, "resources");
  for (const file of [
    "helper-local.mjs",
    "backhaul_native.node",
    "agent/backhaul-agent.cjs",
    "agent/backhaul_native.node",
    "icons/icon.png",
    "icons/tray/connected.png",
    "icons/tray/connectedTemplate@2x.png",
  ])
    assert.ok(existsSync(join(resources, file)), `the package holds resources/${file}`);
  const inAsar = asar.listPackage(join(resources, "app.asar"));
  for (const file of [
    "/package.json",
    "/dist/main/electron.cjs",
    "/dist/main/preload.cjs",
    "/dist/renderer/index.html",
  ])
    assert.ok(inAsar.includes(file), `app.asar holds ${file}`);
  assert.ok(!inAsar.some((file) => file.endsWith(".map")), "no source maps in app.asar");
  assert.ok(!inAsar.some((file) => file.startsWith("/src/")), "no sources in app.asar");
}

test(
  "npm run dist -- --dir packages the app with the helper, the agent and the addon",
  { timeout: 320_000 },
  whenMet(distMissing, async (t) => {
    const dist = (await import(new URL(`file://${DIST_SCRIPT}`).href)) as DistModule;
    const version = dist.electronVersion();
    const source = dist.electronSource({ version, platform: process.platform, arch: process.arch });
    if (!source)
      return skipSaying(
        t,
        `no Electron ${version} distribution for ${process.platform}-${process.arch}: node_modules/electron/dist ` +
          "was not downloaded and its zip is not in Electron's download cache (it comes from GitHub releases, " +
          "outside the npm registry)",
      );
    checkPackage(runDist(t, {}));
  }),
);

test(
  "electron-builder.yml lays out the package (with a stand-in Electron)",
  { timeout: 320_000 },
  whenMet(
    () => (process.platform === "linux" ? distMissing() : "the stand-in distribution has the Linux layout"),
    (t) => {
      const standIn = mkdtempSync(join(tmpdir(), "backhaul-electron-stand-in-"));
      t.after(() => rmSync(standIn, { recursive: true, force: true }));
      mkdirSync(join(standIn, "resources"));
      writeFileSync(join(standIn, "electron"), "#!/bin/sh\necho 'a stand-in for Electron'\n");
      chmodSync(join(standIn, "electron"), 0o755);
      writeFileSync(join(standIn, "LICENSE"), "stand-in\n");
      writeFileSync(join(standIn, "version"), "0.0.0\n");

      const unpacked = runDist(t, { BACKHAUL_ELECTRON_DIST: standIn });
      checkPackage(unpacked);
      assert.ok(existsSync(join(unpacked, "backhaul")), "the executable is named backhaul");
    },
  ),
);
