/**
 * The window over a real SSH target, the path the sandbox target hides: `backhaul ui` runs in L
 * with a ~/.ssh/config Host for the OpenSSH server in R (e2e/sshd), Chromium in L picks it, and
 * Disconnect is timed from the click to R restored (no bh0, no routes, its resolv.conf as before).
 * With Settings → Entrance → Proxy, the same user (who could have the TUN) gets the proxy entrance,
 * and the session view says so with the proxy.env line, which then works on R. Settings → DNS
 * while connected switches R's resolver within seconds (Off: its own file, byte for byte).
 *
 *   R 198.18.1.1 (sshd, the agent) — L 198.18.1.2 (`backhaul ui`, Chromium) — S (198.19.0.0/16)
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { Page } from "playwright-core";
import { type ManagedProcess, type NetworkNamespace } from "./netns/index.js";
import { netnsSkipReason, whenMet } from "./netns/preconditions.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { SUDO_PASSWORD } from "./sshd/server.js";
import { remoteState } from "./sshd/private-lab.js";
import { chromiumMissing, launchChromiumIn } from "./ui/browser.js";
import { sshdForWindow } from "./ui/ssh-window.js";
import { pickTarget, untilSessionPhase } from "./ui/window.js";
import { CLI, cliInHome, LINK_SUBNET_OPTIONS, uiUrl } from "./cli/command.js";
import { SSH_LINK } from "./netns/address-plan.js";
import { ZONE } from "./dns/zone.js";

/** The contract: Disconnect, click to the remote restored, within this. */
const DISCONNECT_MS = 3_000;
const HOST_ALIAS = "devbox";

function skipReason(): string | undefined {
  return (
    netnsSkipReason({ tun: true, tools: ["ip", "dnsmasq", "curl"] }) ??
    sshdSkipReason() ??
    chromiumMissing() ??
    (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build`")
  );
}

/** Starts `backhaul ui` in `local` and resolves with the URL it prints. */
async function startUi(
  local: NetworkNamespace,
  home: string,
): Promise<{ ui: ManagedProcess; url: string; log(): string }> {
  const ui = local.spawn(
    "env",
    cliInHome(home, ["ui", "--port", "0", "--data-dir", join(home, "data"), ...LINK_SUBNET_OPTIONS]),
  );
  return { ui, ...(await uiUrl(ui)) };
}

/**
 * The window over R's sshd: S behind L, ~/.ssh/config's Host HOST_ALIAS as `user`, `backhaul ui`
 * and Chromium in L, all stopped and removed after the test; `before` is R as the agent found it,
 * and `page` has picked HOST_ALIAS.
 */
async function startWindowOverSsh(
  t: TestContext,
  homePrefix: string,
  user: "dev" | "passwordSudo",
  /** Runs in the window before the target is picked (to change a setting). */
  beforePick?: (page: Page) => Promise<void>,
) {
  // SIGTERM first at the end: the UI disconnects, the agent restores R.
  const { home, started, sshd, remote, local, before } = await sshdForWindow(t, homePrefix, {
    alias: HOST_ALIAS,
    user,
    uiStopMs: 15_000,
  });

  const ui = await startUi(local, home);
  started.ui = ui.ui;
  const browser = (started.browser = await launchChromiumIn(local.name, home));
  const page = await browser.newPage();
  await page.goto(ui.url);
  await beforePick?.(page);
  await pickTarget(page, HOST_ALIAS);
  /** Closes the window, then SIGTERM to `backhaul ui`: it exits with 0 within the contract. */
  const stopUi = async (): Promise<void> => {
    await browser.close();
    started.browser = undefined;
    process.kill(ui.ui.pid ?? 0, "SIGTERM");
    assert.equal((await ui.ui.waitForExit(DISCONNECT_MS)).code, 0, ui.log());
  };
  return { sshd, remote, before, ui, page, stopUi };
}

/** startWindowOverSsh as `dev`, once its session is connected (R set up by the agent). */
async function connectedWindow(t: TestContext, homePrefix: string) {
  const window = await startWindowOverSsh(t, homePrefix, "dev");
  await untilSessionPhase(window.page, "connected", 60_000, "not connected", window.ui.log);
  assert.notEqual(await remoteState(window.remote), window.before, "the agent set R up");
  return window;
}

/**
 * Clicks Disconnect; resolves with the ms from the click to R exactly as `before` (waiting up to
 * DISCONNECT_MS for it), after asserting that it got there.
 */
async function disconnectRestores(
  window: Pick<Awaited<ReturnType<typeof startWindowOverSsh>>, "page" | "remote" | "before" | "ui">,
): Promise<number> {
  const { page, remote, before, ui } = window;
  const clicked = Date.now();
  await page.getByTestId("disconnect").click();
  await untilSessionPhase(
    page,
    "disconnected",
    DISCONNECT_MS,
    `not disconnected within ${DISCONNECT_MS} ms`,
    ui.log,
  );
  let after = await remoteState(remote);
  while (after !== before && Date.now() - clicked < DISCONNECT_MS) after = await remoteState(remote);
  const elapsed = Date.now() - clicked;
  assert.equal(after, before, `R is exactly as before; backhaul ui's log:\n${ui.log()}`);
  return elapsed;
}

test(
  "the window over OpenSSH: Disconnect restores the remote within 3 s",
  { timeout: 180_000 },
  whenMet(skipReason, async (t) => {
    const window = await connectedWindow(t, "backhaul-ui-ssh-");
    const elapsed = await disconnectRestores(window);
    t.diagnostic(`Disconnect: click to R restored in ${elapsed} ms`);
    assert.ok(elapsed <= DISCONNECT_MS, `click to restored in ${elapsed} ms`);
    await window.stopUi();
  }),
);

test(
  "the window asks for sudo's password in its dialog; the password connects and is nowhere else",
  { timeout: 180_000 },
  whenMet(skipReason, async (t) => {
    const { remote, before, ui, page, stopUi } = await startWindowOverSsh(
      t,
      "backhaul-ui-sudo-",
      "passwordSudo",
    );
    const dialog = page.locator('[data-testid="prompt-dialog"][data-kind="sudo-password"]');
    await dialog.waitFor({ timeout: 60_000 }).catch((error: unknown) => {
      throw new Error(`no sudo password dialog: ${(error as Error).message}\n${ui.log()}`);
    });
    assert.equal(
      await dialog.getByTestId("prompt-message").textContent(),
      `sudo password for bhxpw@${SSH_LINK.remote.v4}:`,
    );
    await dialog.getByTestId("prompt-input").fill(SUDO_PASSWORD);
    await dialog.getByTestId("prompt-submit").click();
    await untilSessionPhase(page, "connected", 60_000, "not connected", ui.log);
    assert.notEqual(await remoteState(remote), before, "the agent set R up as root");
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name)))
      for (const file of ["cmdline", "environ"]) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(`/proc/${pid}/${file}`);
        } catch {
          continue;
        }
        assert.ok(!bytes.includes(SUDO_PASSWORD), `/proc/${pid}/${file} holds the password`);
      }

    await page.getByTestId("disconnect").click();
    await untilSessionPhase(page, "disconnected", DISCONNECT_MS, "not disconnected", ui.log);
    await stopUi();
    assert.ok(!ui.log().includes(SUDO_PASSWORD), "not in backhaul ui's log");
  }),
);

test(
  "Settings → Entrance → Proxy: a user who could have the TUN gets the proxy; the view says so with the proxy.env line, which works on R",
  { timeout: 180_000 },
  whenMet(skipReason, async (t) => {
    const { sshd, remote, before, ui, page, stopUi } = await startWindowOverSsh(
      t,
      "backhaul-ui-proxy-",
      "dev",
      async (window) => {
        await window.getByTestId("tab-settings").click();
        await window.getByTestId("settings-entrance-proxy").check();
        await window.getByTestId("settings-save").click();
        await window.getByTestId("settings-saved").waitFor({ timeout: 10_000 });
        await window.getByTestId("tab-session").click();
      },
    );
    await untilSessionPhase(page, "connected", 60_000, "not connected", ui.log);
    assert.equal(await page.getByTestId("stat-entrance").textContent(), "Proxy", ui.log());
    // Connected, the window shows the NAT tab; the Session tab has the entrance in full.
    await page.getByTestId("tab-session").click();
    const entrance = page.getByTestId("session-entrance");
    assert.equal(await entrance.getAttribute("data-entrance"), "proxy", ui.log());
    assert.match((await entrance.textContent()) ?? "", /Proxy entrance/);
    assert.equal(await page.getByTestId("proxy-env-hint").textContent(), ". ~/.config/backhaul/proxy.env");
    assert.equal(await remoteState(remote), before, "no TUN, route or resolver change on R");

    // The line the view shows is what a shell on R runs: curl then reaches S by its private name.
    const curl = await sshd.sshWithOpenSsh(
      sshd.users.dev,
      `. ~/.config/backhaul/proxy.env && curl -sS --fail -m 30 -o /dev/null -w '%{http_code}' --proxy "$ALL_PROXY" 'http://host.${ZONE}/bytes/1000'`,
    );
    assert.equal(curl.code, 0, `${curl.stderr}\n${ui.log()}`);
    assert.equal(curl.stdout, "200");

    await page.getByTestId("disconnect").click();
    await untilSessionPhase(page, "disconnected", DISCONNECT_MS, "not disconnected", ui.log);
    await stopUi();
  }),
);

test(
  "Settings → DNS while connected: Off gives R its own resolv.conf back byte for byte, All points it at the stub again, within seconds and still connected",
  { timeout: 180_000 },
  whenMet(skipReason, async (t) => {
    const window = await connectedWindow(t, "backhaul-ui-dns-");
    const { remote, before, ui, page } = window;
    const resolvConf = join("/etc/netns", remote.name, "resolv.conf");
    const original = (JSON.parse(before) as { resolvConf: string }).resolvConf;
    assert.notEqual(readFileSync(resolvConf, "utf8"), original, "connected: R resolves through the link");

    /** Picks `mode` under Settings → DNS and saves, as a user does; back on the session view. */
    let savedAt = 0;
    const setDns = async (mode: "off" | "all"): Promise<void> => {
      await page.getByTestId("tab-settings").click();
      await page.getByTestId(`settings-dns-${mode}`).check();
      savedAt = Date.now();
      await page.getByTestId("settings-save").click();
      await page.getByTestId("settings-saved").waitFor({ timeout: 10_000 });
      await page.getByTestId("tab-session").click();
    };
    const within = async (ms: number, what: string, done: () => boolean): Promise<void> => {
      while (!done()) {
        if (Date.now() - savedAt > ms) assert.fail(`not within ${ms / 1000} s: ${what}\n${ui.log()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      t.diagnostic(`${what}: by ${Date.now() - savedAt} ms after the click on Save`);
    };

    await setDns("off");
    await within(
      15_000,
      "R's resolv.conf as before the connect",
      () => readFileSync(resolvConf, "utf8") === original,
    );
    assert.notEqual(await remoteState(remote), before, "still connected: the TUN and its routes stay");
    await untilSessionPhase(page, "connected", 1_000, "the session stays connected", ui.log);

    await setDns("all");
    await within(15_000, "R's resolv.conf names the stub again", () =>
      readFileSync(resolvConf, "utf8").includes("names are resolved through the link to your computer"),
    );

    await disconnectRestores(window);
    await window.stopUi();
  }),
);
