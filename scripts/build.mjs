#!/usr/bin/env node
// Builds every bundle: Electron main and preload, the CLI, the local helper, the remote agent
// (one self-contained file plus the native addon, because it is uploaded to the remote), and the
// renderer with Vite.
import { build as esbuild } from "esbuild";
import { build as viteBuild } from "vite";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { prepareNodeRuntimes } from "./node-runtimes.mjs";

const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "dist");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const quiet = process.argv.includes("--quiet");

rmSync(dist, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: "node",
  sourcemap: "linked",
  logLevel: quiet ? "warning" : "info",
  define: { __BACKHAUL_VERSION__: JSON.stringify(version) },
};

await Promise.all([
  // Electron loads CommonJS main and preload scripts; `electron` itself is provided at run time.
  esbuild({
    ...common,
    entryPoints: { electron: "src/main/electron/main.ts", preload: "src/main/electron/preload.ts" },
    outdir: join(dist, "main"),
    outExtension: { ".js": ".cjs" },
    format: "cjs",
    target: "node22",
    external: ["electron"],
    packages: "external",
    // Reached through the broker; main never loads the addon itself (the helper does).
    logOverride: { "empty-import-meta": "silent" },
  }),
  // The CLI runs from an installed tree, next to node_modules.
  esbuild({
    ...common,
    entryPoints: { cli: "src/main/cli.ts" },
    outdir: dist,
    outExtension: { ".js": ".mjs" },
    format: "esm",
    target: "node20",
    packages: "external",
  }),
  // The local helper may run elevated, from the app's resources, away from node_modules: it
  // carries its dependencies (CommonJS ones get a real `require`).
  esbuild({
    ...common,
    entryPoints: { "helper-local": "src/helper/local/entry.ts" },
    outdir: dist,
    outExtension: { ".js": ".mjs" },
    format: "esm",
    target: "node20",
    banner: {
      js: 'import { createRequire as __bhRequire } from "node:module"; const require = __bhRequire(import.meta.url);',
    },
  }),
  // The agent travels alone: everything bundled, CommonJS for the oldest Node we support (18).
  esbuild({
    ...common,
    entryPoints: { "backhaul-agent": "src/helper/agent/entry.ts" },
    outdir: join(dist, "agent"),
    outExtension: { ".js": ".cjs" },
    format: "cjs",
    target: "node18",
    // load-addon.ts falls back to __dirname where import.meta is empty (CommonJS).
    logOverride: { "empty-import-meta": "silent" },
  }),
]);

const addon = join(root, "src/helper/native/build/Release/backhaul_native.node");
if (existsSync(addon)) {
  copyFileSync(addon, join(dist, "agent", "backhaul_native.node"));
  // The local helper's ICMP sockets (Linux) use it too, from beside helper-local.mjs.
  copyFileSync(addon, join(dist, "backhaul_native.node"));
} else if (process.platform === "linux") {
  console.warn(
    "build: the native addon is missing; run `npm run build:native` (the agent cannot open a TUN without it)",
  );
}

// The linux-arm64 addon for arm64 remotes, beside the x64 one: cross-built here when this machine
// has the cross compiler (Debian: gcc-aarch64-linux-gnu) and the sources are newer than the last.
const arm64Addon = join(root, ".cache/native/linux-arm64/backhaul_native.node");
if (process.platform === "linux" && arm64AddonIsStale() && onPath("aarch64-linux-gnu-gcc")) {
  const cross = spawnSync(
    process.execPath,
    ["scripts/build-native.mjs", "--arch=arm64", `--out=${arm64Addon}`],
    { cwd: root, stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit" },
  );
  if (cross.status !== 0) console.warn("build: the arm64 addon could not be built (see above)");
}
if (!existsSync(arm64Addon) && process.platform === "linux" && !quiet) {
  console.log(
    "build: no arm64 addon (install gcc-aarch64-linux-gnu to build it): arm64 remotes cannot run the agent",
  );
}
if (existsSync(arm64Addon)) {
  mkdirSync(join(dist, "agent", "arm64"), { recursive: true });
  copyFileSync(arm64Addon, join(dist, "agent", "arm64", "backhaul_native.node"));
}

// Node.js for remotes without their own 18+, uploaded beside the agent when needed.
prepareNodeRuntimes({ root, outDir: join(dist, "agent"), log: quiet ? () => undefined : console.log });

await viteBuild({ configFile: join(root, "vite.config.ts"), logLevel: quiet ? "warn" : "info" });
mkdirSync(join(dist, "renderer"), { recursive: true });
console.log(`build: dist/ ready (backhaul ${version})`);

function arm64AddonIsStale() {
  if (!existsSync(arm64Addon)) return true;
  const sources = join(root, "src/helper/native");
  const newest = Math.max(
    statSync(join(sources, "binding.gyp")).mtimeMs,
    ...readdirSync(join(sources, "src")).map((name) => statSync(join(sources, "src", name)).mtimeMs),
  );
  return statSync(arm64Addon).mtimeMs < newest;
}

function onPath(command) {
  return (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, command)));
}
