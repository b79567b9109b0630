/**
 * The desktop app in a real Electron, driven by Playwright's `_electron`: the window opens on the
 * targets with the session disconnected, the page has the preload's API and no Node, and closing
 * the window hides it (the app lives in the tray). Needs the Electron binary, which comes from
 * GitHub releases outside the npm registry: where it was not downloaded, the test says so and skips.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { _electron } from "playwright-core";
import type { AppInfo, BackhaulApi } from "../src/shared/api.js";
import { electronRuntime } from "../scripts/electron-runtime.mjs";
import { skipSaying } from "./netns/preconditions.js";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN_ENTRY = join(ROOT, "dist", "main", "electron.cjs");
const ARTIFACTS = join(ROOT, "e2e", "artifacts");
const MISSING_BINARY =
  "the Electron binary is missing: node_modules/electron/dist was not downloaded " +
  "(it comes from GitHub releases, outside the npm registry)";

function skipReason(binary: string | undefined): string | undefined {
  if (!binary) return MISSING_BINARY;
  if (!existsSync(MAIN_ENTRY)) return "dist/ is not built: run `npm run build`";
  if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return "there is no display (DISPLAY and WAYLAND_DISPLAY are unset): run the tests under xvfb-run";
  return undefined;
}

test(
  "the desktop app opens on the targets, sandboxed, and hides to the tray",
  { timeout: 120_000 },
  async (t) => {
    const binary = electronRuntime(ROOT)?.binary;
    const reason = skipReason(binary);
    if (reason) {
      return skipSaying(t, reason);
    }

    const config = mkdtempSync(join(tmpdir(), "backhaul-electron-"));
    t.after(() => rmSync(config, { recursive: true, force: true }));
    const app = await _electron.launch({
      executablePath: binary,
      // Chromium refuses to run as root with its sandbox on; the renderer keeps its own sandbox flag.
      args: [...(process.getuid?.() === 0 ? ["--no-sandbox"] : []), `--user-data-dir=${config}`, MAIN_ENTRY],
      // Settings and recents go to a throwaway directory, not the user's.
      env: { ...process.env, XDG_CONFIG_HOME: config, ELECTRON_ENABLE_LOGGING: "1" },
      timeout: 60_000,
    });
    t.after(() => app.close());

    const page = await app.firstWindow();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });

    await page.getByTestId("session-phase").waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("session-phase").textContent(), "disconnected");
    const sandbox = page.locator('[data-testid="target-item"][data-target-id="sandbox"]');
    await sandbox.waitFor({ timeout: 30_000 });
    assert.match((await sandbox.textContent()) ?? "", /This computer \(sandbox\)/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "electron-targets.png") });

    // The preload's API is there, answering for the Electron shell; Node is not.
    const info = await page.evaluate(() =>
      (globalThis as unknown as { backhaul: BackhaulApi }).backhaul.request("app:info", null),
    );
    assert.equal((info as AppInfo).shell, "electron");
    assert.deepEqual(
      await page.evaluate(() => [
        typeof (globalThis as { require?: unknown }).require,
        typeof globalThis.process,
      ]),
      ["undefined", "undefined"],
    );
    // A payload the API does not accept is refused in main.
    await assert.rejects(
      page.evaluate(() =>
        (globalThis as unknown as { backhaul: BackhaulApi }).backhaul.request("session:connect", {
          targetId: 42,
        } as unknown as { targetId: string }),
      ),
      /targetId/,
    );

    // Closing the window hides it; the app (and any session) goes on in the tray.
    const windows = await app.evaluate(({ BrowserWindow }) => {
      BrowserWindow.getAllWindows()[0]?.close();
      return BrowserWindow.getAllWindows().map((window) => window.isVisible());
    });
    assert.deepEqual(windows, [false]);
    assert.deepEqual(errors, [], "no errors in the page (CSP violations included)");
  },
);
