/**
 * "Record packets" in the window, driven by Chromium in browser mode: `backhaul ui` in namespace
 * L, the sandbox target as the remote. Recording starts from the session view, a curl in the
 * sandbox crosses the tunnel, the view shows the file growing, Stop says where it is, and tshark
 * finds the curl's SYN, data and FIN in both directions. The file lands in the lab's Downloads
 * folder ($XDG_DOWNLOAD_DIR), never this machine's.
 */
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { assertHttpExchangeCaptured } from "./capture/tcp-exchange.js";
import { whenMet } from "./netns/preconditions.js";
import { parseBytes } from "./ui/browser.js";
import { downloadInSandbox, startUiLabInBrowser, uiLabSkipReason } from "./ui/browser-lab.js";
import { pickTarget, untilSessionPhase } from "./ui/window.js";
import { CORP_NET } from "./netns/address-plan.js";

const ROOT = new URL("..", import.meta.url).pathname;
const ARTIFACTS = join(ROOT, "e2e", "artifacts");
const DOWNLOAD_BYTES = 300_000;

test(
  "Record packets: the window records a curl's packets into Downloads, tshark reads them",
  { timeout: 180_000 },
  whenMet(
    () => uiLabSkipReason(["curl", "tshark"]),
    async (t) => {
      const { lab, browser } = await startUiLabInBrowser(t, "backhaul-ui-capture-");
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(lab.url);
      await pickTarget(page, "sandbox");
      await untilSessionPhase(page, "connected", 60_000, "the session did not connect", () => lab.log());
      await page.getByTestId("tab-session").click();

      const toggle = page.getByTestId("capture-toggle");
      assert.equal(await toggle.textContent(), "Record packets");
      await toggle.click();
      await page
        .getByTestId("capture-status")
        .filter({ hasText: /^Recording to / })
        .waitFor({ timeout: 10_000 });
      const path = (await page.getByTestId("capture-path").textContent()) ?? "";
      assert.equal(dirname(path), lab.downloadsDir, "the file is in Downloads");
      assert.match(path, /\/backhaul-sandbox-\d{8}-\d{6}\.pcapng$/);
      assert.equal(await toggle.textContent(), "Stop recording");

      const curl = await downloadInSandbox(lab, CORP_NET.host.v4, DOWNLOAD_BYTES);
      assert.equal(curl.stdout, `200 ${DOWNLOAD_BYTES}`, curl.stderr);
      const size = page.getByTestId("capture-size");
      const deadline = Date.now() + 10_000;
      while (parseBytes((await size.textContent()) ?? "") < DOWNLOAD_BYTES && Date.now() < deadline)
        await page.waitForTimeout(200);
      assert.ok(
        parseBytes((await size.textContent()) ?? "") >= DOWNLOAD_BYTES,
        "the shown size grows with the file",
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.getByTestId("session-summary").screenshot({ path: join(ARTIFACTS, "ui-capture.png") });

      await toggle.click();
      const message = page.getByTestId("capture-message");
      await message.waitFor({ timeout: 10_000 });
      assert.match((await message.textContent()) ?? "", /capture stopped at [\d.]+ MB/);
      assert.match((await page.getByTestId("capture-status").textContent()) ?? "", /^Saved in /);
      assert.equal(await toggle.textContent(), "Record packets");
      assert.equal(statSync(path).mode & 0o777, 0o600, "the capture is only the user's");
      await assertHttpExchangeCaptured(path, CORP_NET.host.v4, DOWNLOAD_BYTES);
    },
  ),
);
