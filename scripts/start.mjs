#!/usr/bin/env node
// `npm start`: builds, then starts the desktop app. Where the Electron runtime is missing and
// cannot be fetched (its binary comes from outside the npm registry), says so and opens the same
// UI in browser mode instead.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { electronRuntime } from "./electron-runtime.mjs";

const root = new URL("..", import.meta.url).pathname;
const build = spawnSync(process.execPath, ["scripts/build.mjs", "--quiet"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const electronBinary = () => electronRuntime(root)?.binary;

let binary = electronBinary();
if (!binary && existsSync(join(root, "node_modules", "electron", "install.js"))) {
  const fetch = spawnSync(process.execPath, [join(root, "node_modules", "electron", "install.js")], {
    cwd: root,
    stdio: "ignore",
    timeout: 120_000,
  });
  if (fetch.status === 0) binary = electronBinary();
}

function run(command, args) {
  const child = spawn(command, args, { cwd: root, stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

if (binary) {
  // Chromium refuses to run as root with its sandbox on; the renderer keeps its own sandbox flag.
  const flags = process.getuid?.() === 0 ? ["--no-sandbox"] : [];
  run(binary, [...flags, join(root, "dist", "main", "electron.cjs")]);
} else {
  console.log(
    "The Electron runtime is not installed and could not be downloaded here; opening Backhaul in browser mode instead.",
  );
  run(process.execPath, [join(root, "dist", "cli.mjs"), "ui", ...process.argv.slice(2)]);
}
