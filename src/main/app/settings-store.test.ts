import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULT_SETTINGS } from "../../shared/api.js";
import { Recents } from "./recents.js";
import { SettingsStore } from "./settings-store.js";

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-app-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("settings start from the defaults and persist, owner-only, across opens", async (t) => {
  const dir = tempDir(t);
  const warnings: string[] = [];
  const store = await SettingsStore.open(dir, (line) => warnings.push(line));
  assert.deepEqual(store.current, DEFAULT_SETTINGS);
  const next = { ...DEFAULT_SETTINGS, routes: ["10.2.0.0/16"], allowLocal: true };
  await store.set(next);
  const path = join(dir, "settings.json");
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const reopened = await SettingsStore.open(dir, (line) => warnings.push(line));
  assert.deepEqual(reopened.current, next);
  assert.deepEqual(warnings, []);
});

test("concurrent writes leave the last settings on disk, and no temporary files", async (t) => {
  const dir = tempDir(t);
  const store = await SettingsStore.open(dir, () => undefined);
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => store.set({ ...DEFAULT_SETTINGS, routes: [`10.${i}.0.0/16`] })),
  );
  const stored = JSON.parse(readFileSync(join(dir, "settings.json"), "utf8")) as { routes: string[] };
  assert.deepEqual(stored.routes, ["10.9.0.0/16"]);
  const { readdirSync } = await import("node:fs");
  assert.deepEqual(readdirSync(dir), ["settings.json"]);
});

test("a damaged settings file gives the defaults and a warning; unknown and missing fields are tolerated", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "settings.json"), "{oops");
  const warnings: string[] = [];
  assert.deepEqual((await SettingsStore.open(dir, (line) => warnings.push(line))).current, DEFAULT_SETTINGS);
  assert.match(warnings[0] ?? "", /unreadable.*using the defaults/);

  writeFileSync(join(dir, "settings.json"), JSON.stringify({ routes: ["10.1.2.3/16"], future: 1 }));
  const store = await SettingsStore.open(dir, () => undefined);
  assert.deepEqual(store.current, { ...DEFAULT_SETTINGS, routes: ["10.1.0.0/16"] });

  writeFileSync(
    join(dir, "settings.json"),
    JSON.stringify({ ...DEFAULT_SETTINGS, routes: ["not a prefix"] }),
  );
  warnings.length = 0;
  assert.deepEqual((await SettingsStore.open(dir, (line) => warnings.push(line))).current, DEFAULT_SETTINGS);
  assert.equal(warnings.length, 1);
});

test("a settings file from before the entrance setting loads, as auto; a stored entrance persists", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "settings.json");
  // Exactly what the version before the setting wrote: every other field, no "entrance".
  const older = {
    routes: ["10.2.0.0/16"],
    excludes: [],
    dns: "off",
    allowLocal: true,
    startAtLogin: false,
    execTargets: [{ name: "devpod", command: "kubectl exec -i devpod -- sh" }],
  };
  writeFileSync(path, JSON.stringify(older));
  const warnings: string[] = [];
  const store = await SettingsStore.open(dir, (line) => warnings.push(line));
  assert.deepEqual(warnings, []);
  assert.deepEqual(store.current, {
    ...older,
    dnsDomains: [],
    entrance: "auto",
    remoteRoutes: [],
    remoteDnsDomains: [],
    socks: null,
  });

  await store.set({ ...store.current, entrance: "proxy" });
  assert.equal((JSON.parse(readFileSync(path, "utf8")) as { entrance: string }).entrance, "proxy");
  assert.equal((await SettingsStore.open(dir, () => undefined)).current.entrance, "proxy");

  writeFileSync(path, JSON.stringify({ ...older, entrance: "wormhole" }));
  const refused: string[] = [];
  assert.deepEqual((await SettingsStore.open(dir, (line) => refused.push(line))).current, DEFAULT_SETTINGS);
  assert.match(refused[0] ?? "", /entrance must be/);
});

test("recents keep the newest first, once each, with when they were used", async (t) => {
  const dir = tempDir(t);
  const recents = await Recents.open(dir, () => undefined);
  await recents.touch("devbox", 1_000);
  await recents.touch("codespace:abc", 2_000);
  await recents.touch("devbox", 3_000);
  assert.deepEqual(recents.ids(), ["devbox", "codespace:abc"]);
  const reopened = await Recents.open(dir, () => undefined);
  assert.deepEqual(reopened.ids(), ["devbox", "codespace:abc"]);
  assert.equal(reopened.lastUsedAt("devbox"), 3_000);
  assert.equal(reopened.lastUsedAt("elsewhere"), null);
  assert.equal(statSync(join(dir, "recents.json")).mode & 0o777, 0o600);
});

test("recents drop malformed entries", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "recents.json"), JSON.stringify([{ id: "a", at: 1 }, { id: 5 }, "b", null]));
  assert.deepEqual((await Recents.open(dir, () => undefined)).ids(), ["a"]);
});

test("a settings.json from before the reverse direction loads, with none of it set; a saved one reloads", async (t) => {
  const dir = tempDir(t);
  const older = {
    routes: ["10.1.0.0/16"],
    excludes: [] as string[],
    dns: "split",
    dnsDomains: [] as string[],
    allowLocal: false,
    startAtLogin: false,
    execTargets: [{ name: "r1", command: "sh" }],
    entrance: "proxy",
  };
  writeFileSync(join(dir, "settings.json"), JSON.stringify(older));
  const warnings: string[] = [];
  const store = await SettingsStore.open(dir, (line) => warnings.push(line));
  assert.deepEqual(warnings, []);
  assert.deepEqual(store.current, { ...older, remoteRoutes: [], remoteDnsDomains: [], socks: null });
  const reverse = { remoteRoutes: ["198.18.91.0/24"], remoteDnsDomains: ["r1.test"], socks: "1081" };
  await store.set({ ...store.current, ...reverse });
  const again = await SettingsStore.open(dir, () => undefined);
  assert.deepEqual(again.current, { ...older, ...reverse });
});
