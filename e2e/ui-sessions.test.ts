/**
 * Issue 15, item 4 in the window: two sessions at once. `backhaul ui` runs in L as root, with a
 * ~/.ssh/config Host "devbox" for the OpenSSH server in R (e2e/sshd) and the "This computer
 * (sandbox)" target; Chromium in L connects devbox, then, with "New session", the sandbox beside
 * it. Both remotes reach S by name; the NAT table's session filter shows each session's rows only;
 * the sandbox's × ends it alone while a transfer runs in R, which stays connected and intact; then
 * Disconnect restores R exactly. Screenshots: e2e/artifacts/ui-sessions*.png.
 *
 *   R 198.18.1.1 (sshd, the agent) — L 198.18.1.2 (`backhaul ui`, Chromium) — S (198.19.0.0/16)
 *   the sandbox namespace: made by `backhaul ui`, its stdio the link
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, cliInHome, LINK_SUBNET_OPTIONS, uiUrl } from "./cli/command.js";
import { ZONE } from "./dns/zone.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { runCommand, type CommandResult } from "./netns/index.js";
import { netnsSkipReason, stepsOf, whenMet } from "./netns/preconditions.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { remoteState } from "./sshd/private-lab.js";
import { chromiumMissing, launchChromiumIn } from "./ui/browser.js";
import { downloadInSandbox } from "./ui/browser-lab.js";
import { sshdForWindow } from "./ui/ssh-window.js";
import { pickTarget, untilSessionPhase } from "./ui/window.js";

const ROOT = new URL("..", import.meta.url).pathname;
const ARTIFACTS = join(ROOT, "e2e", "artifacts");
/** The contract: Disconnect, click to the remote restored, within this. */
const DISCONNECT_MS = 3_000;
const HOST_ALIAS = "devbox";
const SANDBOX_LABEL = "This computer (sandbox)";
const MB = 1_000_000;

function skipReason(): string | undefined {
  return (
    netnsSkipReason({ tun: true, tools: ["ip", "dnsmasq", "curl", "nsenter", "iperf3"] }) ??
    sshdSkipReason() ??
    chromiumMissing() ??
    (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build`")
  );
}

test(
  "the window holds two sessions at once: each reaches S, the tables filter by session, one ends alone",
  { timeout: 300_000 },
  whenMet(skipReason, async (t) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // SIGTERM first at the end: the UI ends both sessions and removes the sandbox.
    const { lab, home, started, remote, local, before } = await sshdForWindow(t, "backhaul-ui-sessions-", {
      alias: HOST_ALIAS,
      user: "dev",
      uiStopMs: 25_000,
    });

    const ui = local.spawn(
      "env",
      cliInHome(home, ["ui", "--port", "0", "--data-dir", join(home, "data"), ...LINK_SUBNET_OPTIONS]),
    );
    started.ui = ui;
    const pid = ui.pid ?? 0;
    const sandboxName = `bh-sandbox-${pid}`;
    lab.onCleanup("last", async () => {
      // Only if the UI died without removing its sandbox.
      await rm(join("/etc/netns", sandboxName), { recursive: true, force: true });
    });
    const { url, log } = await uiUrl(ui);
    /** A command in the sandbox, which is mounted in the UI's mount namespace only (e2e/ui/topology.ts). */
    const inSandbox = (file: string, args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> =>
      runCommand(
        "nsenter",
        ["--target", String(pid), "--mount", "--", "ip", "netns", "exec", sandboxName, file, ...args],
        { timeoutMs },
      );
    const browser = (started.browser = await launchChromiumIn(local.name, home));
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    const step = stepsOf(t);
    const chip = (label: string) => page.locator(`[data-testid="session-chip"][data-session="${label}"]`);

    await step("devbox connects over SSH, then the sandbox beside it through New session", async () => {
      await page.goto(url);
      await pickTarget(page, HOST_ALIAS);
      await untilSessionPhase(page, "connected", 90_000, "devbox did not connect", log);
      await page.getByTestId("new-session").click();
      await pickTarget(page, "sandbox");
      await chip(SANDBOX_LABEL)
        .and(page.locator('[data-phase="connected"]'))
        .waitFor({ timeout: 60_000 })
        .catch((error: unknown) => {
          throw new Error(`the sandbox did not connect: ${String(error)}\n${log()}`);
        });
      assert.equal(await chip(HOST_ALIAS).getAttribute("data-phase"), "connected", "devbox runs on");
      assert.equal(await page.getByTestId("session-chip").count(), 2);
      assert.equal(await page.getByTestId("session-target").textContent(), `to ${SANDBOX_LABEL}`);
    });

    await step(
      "each remote reaches S by name, and the NAT table's session filter shows each one's rows",
      async () => {
        assert.equal(await downloadSha256(remote, `www.${ZONE}`, MB), sha256(deterministicBytes(MB)), "R");
        const fetched = await downloadInSandbox({ inSandbox }, `www.${ZONE}`, MB);
        assert.equal(fetched.stdout, `200 ${MB}`, `the sandbox: ${fetched.stderr}`);
        await page.getByTestId("tab-flows").click();
        const rows = page.getByTestId("flow-row");
        const sessionsShown = async (): Promise<string[]> => [
          ...new Set(await page.locator('[data-testid="flow-row"] [data-col="session"]').allTextContents()),
        ];
        // Both sessions' rows, in one table.
        await page
          .locator('[data-testid="flow-row"] [data-col="session"]', { hasText: HOST_ALIAS })
          .first()
          .waitFor({ timeout: 15_000 });
        await page
          .locator('[data-testid="flow-row"] [data-col="session"]', { hasText: SANDBOX_LABEL })
          .first()
          .waitFor({ timeout: 15_000 });
        assert.deepEqual((await sessionsShown()).sort(), [HOST_ALIAS, SANDBOX_LABEL].sort());
        const filter = page.getByTestId("flow-session-filter");
        await filter.selectOption(HOST_ALIAS);
        await rows.first().waitFor();
        assert.deepEqual(await sessionsShown(), [HOST_ALIAS], "devbox's rows only");
        await filter.selectOption(SANDBOX_LABEL);
        await rows.first().waitFor();
        assert.deepEqual(await sessionsShown(), [SANDBOX_LABEL], "the sandbox's rows only");
        await page.screenshot({ path: join(ARTIFACTS, "ui-sessions.png") });
        await filter.selectOption("");
        assert.deepEqual((await sessionsShown()).sort(), [HOST_ALIAS, SANDBOX_LABEL].sort(), "all again");
      },
    );

    await step("the sandbox's × ends it alone: devbox stays connected, its transfer intact", async () => {
      // 24 MB at 6 MB/s from R: under way while the sandbox ends.
      const size = 24 * MB;
      const transfer = remote.runChecked(
        "bash",
        [
          "-o",
          "pipefail",
          "-c",
          `curl -sS --fail -m 60 --limit-rate 6M 'http://www.${ZONE}/bytes/${size}' | sha256sum`,
        ],
        { timeoutMs: 70_000 },
      );
      // Every phase devbox's chip shows from here on.
      await page.evaluate(`(() => {
        const chip = document.querySelector('[data-testid="session-chip"][data-session="${HOST_ALIAS}"]');
        window.__devboxPhases = [];
        new MutationObserver(() => window.__devboxPhases.push(chip.getAttribute("data-phase"))).observe(chip, {
          attributes: true,
          attributeFilter: ["data-phase"],
        });
      })()`);
      await page.waitForTimeout(1_000);
      const clicked = Date.now();
      await chip(SANDBOX_LABEL).getByTestId("session-chip-disconnect").click();
      await chip(SANDBOX_LABEL).waitFor({ state: "detached", timeout: DISCONNECT_MS });
      assert.ok(Date.now() - clicked <= DISCONNECT_MS, "the sandbox ended within the contract");
      assert.equal(await chip(HOST_ALIAS).getAttribute("data-phase"), "connected", "devbox is untouched");
      assert.equal(await page.getByTestId("session-chip").count(), 1);
      const gone = await runCommand("nsenter", [
        "--target",
        String(pid),
        "--mount",
        "--",
        "ip",
        "netns",
        "list",
      ]);
      assert.ok(!gone.stdout.includes(sandboxName), `the sandbox namespace is gone:\n${gone.stdout}`);
      const done = await transfer;
      assert.equal(done.stdout.split(" ")[0], sha256(deterministicBytes(size)), "R's transfer is intact");
      assert.equal(await chip(HOST_ALIAS).getAttribute("data-phase"), "connected");
      const phases = (await page.evaluate("window.__devboxPhases")) as string[];
      assert.deepEqual(
        phases.filter((phase) => phase !== "connected"),
        [],
        "devbox never left connected",
      );
      await page.getByTestId("session-target").filter({ hasText: HOST_ALIAS }).waitFor({ timeout: 5_000 });
      await page.screenshot({ path: join(ARTIFACTS, "ui-sessions-one-left.png") });
    });

    await step("Disconnect ends devbox and restores R exactly", async () => {
      await page.getByTestId("disconnect").click();
      await untilSessionPhase(page, "disconnected", DISCONNECT_MS, "devbox did not end", log);
      assert.equal(await remoteState(remote), before, "R is exactly as before");
      assert.equal(await page.getByTestId("session-chip").count(), 0);
      assert.deepEqual(errors, [], "no page errors");
    });
  }),
);
