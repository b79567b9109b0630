import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * Makes sure the native addon is built before a suite loads it (a no-op, about 75 ms, when
 * nothing changed); fails the test with the build's output otherwise.
 */
export function buildNativeAddon(): void {
  const build = spawnSync(process.execPath, ["scripts/build-native.mjs"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(build.status, 0, `building the native addon failed:\n${build.stdout}${build.stderr}`);
}
