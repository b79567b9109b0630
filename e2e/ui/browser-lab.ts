// The browser-mode lab (topology.ts) with Chromium in L, as the window's browser tests start it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromiumIn } from "./browser.js";
import { buildUiLab, type UiLab } from "./topology.js";

/** The lab and Chromium (its profile in a temp directory), both stopped and removed after the test. */
export async function startUiLabInBrowser(
  t: TestContext,
  dirPrefix: string,
): Promise<{ lab: UiLab; browser: Browser }> {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  // Registered before anything starts, so a failure while building still cleans up.
  const started: { lab?: UiLab; browser?: Browser } = {};
  t.after(async () => {
    try {
      await started.browser?.close();
      // SIGTERM first: the UI restores and deletes the sandbox itself; the lab then stops the rest.
      await started.lab?.stopUi(25_000).catch(() => undefined);
      await started.lab?.cleanup();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const lab = (started.lab = await buildUiLab());
  const browser = (started.browser = await launchChromiumIn(lab.local.name, dir));
  return { lab, browser };
}
