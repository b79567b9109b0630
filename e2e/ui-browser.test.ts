/**
 * Browser mode with a live session (issue #6's first bar): `backhaul ui` runs in namespace L
 * (this computer, which alone reaches the private network S), Chromium in L drives the window,
 * and the "This computer (sandbox)" target plays the remote. The test picks the target, watches
 * the steps to `connected`, runs curl and dig in the sandbox and sees their rows, filters both
 * tables, runs a diagnostic, disconnects, and checks the sandbox namespace is gone. Screenshots of
 * each view go to e2e/artifacts/ui-*.png.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { CONNECT_STEPS } from "../src/shared/api.js";
import { parseBytes } from "./ui/browser.js";
import { curlInSandbox, downloadInSandbox, startUiLabInBrowser, uiLabSkipReason } from "./ui/browser-lab.js";
import { CLI } from "./ui/topology.js";
import { skipSaying, stepsOf, whenMet } from "./netns/preconditions.js";
import { failingWithLog, untilSessionPhase } from "./ui/window.js";
import { CORP_NET, onNetwork, REMOTE_PRIVATE } from "./netns/address-plan.js";
import { startServers } from "./nat/start-servers.js";
import { VAULT } from "./dns/zone.js";

const ROOT = new URL("..", import.meta.url).pathname;
const ARTIFACTS = join(ROOT, "e2e", "artifacts");
/** 4 MB at 1 MB/s: a transfer of about four seconds, long enough to watch its row grow. */
const DOWNLOAD_BYTES = 4_000_000;
const RATE_LIMIT = "1M";
/** Not routed anywhere in the lab: advertised only because the user adds it. */
const EXTRA_ROUTE = "198.18.60.0/24";
/** A network the sandbox joins itself, then advertised: the agent skips it as an overlap. */
const OVERLAP = { network: "198.18.61.0/24", remote: "198.18.61.1/24", host: "198.18.61.10" } as const;
/** The window's SOCKS setting, a port on L's loopback. */
const SOCKS_PORT = 1080;
/** The contract: Disconnect, click to the remote restored, within this. */
const DISCONNECT_MS = 3_000;

test(
  "browser mode drives a live sandbox session end to end",
  { timeout: 240_000 },
  whenMet(
    () => uiLabSkipReason(["curl", "dig", "iperf3"]),
    async (t) => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const { lab, browser } = await startUiLabInBrowser(t, "backhaul-ui-browser-");
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      const step = stepsOf(t);
      const uiLog = (): string => lab.log();
      const fail = (what: string) => failingWithLog(what, uiLog);

      await step("the window opens on the targets, with the sandbox among them", async () => {
        const origin = new URL(lab.url).origin;
        const token = new URL(lab.url).hash.replace(/^#token=/, "");
        await page.goto(lab.url);
        assert.equal(page.url(), `${origin}/`, "the token leaves the address bar as the page loads");
        assert.equal(
          await page.evaluate("sessionStorage.getItem('backhaul.token')"),
          token,
          "this tab keeps it",
        );
        await page.getByTestId("app-version").filter({ hasText: "Version" }).waitFor({ timeout: 15_000 });
        // A reload finds the token in sessionStorage; and no cookie ever carries it.
        await page.reload();
        await page.getByTestId("app-version").filter({ hasText: "Version" }).waitFor({ timeout: 15_000 });
        assert.deepEqual(await page.context().cookies(), [], "no cookie is set");
        assert.match((await page.getByTestId("app-version").textContent()) ?? "", /^Version \S+ on linux$/);
        assert.equal(await page.getByTestId("session-phase").textContent(), "disconnected");
        await page.getByTestId("target-search").fill("sandbox");
        const sandbox = page.locator('[data-testid="target-item"][data-target-id="sandbox"]');
        await sandbox.waitFor({ timeout: 15_000 });
        assert.match((await sandbox.textContent()) ?? "", /This computer \(sandbox\)/);
        await page.screenshot({ path: join(ARTIFACTS, "ui-targets.png") });
      });

      await step("a page without the token, or with a wrong one, says to open the printed URL", async () => {
        const origin = new URL(lab.url).origin;
        const stranger = await browser.newPage();
        try {
          const old = await stranger.goto(
            `${origin}/?token=${new URL(lab.url).hash.replace(/^#token=/, "")}`,
          );
          assert.equal(old?.status(), 400, "the old ?token= URL fails loudly");
          await stranger.goto(`${origin}/`);
          const refused = stranger.getByTestId("link-refused");
          await refused.waitFor({ timeout: 5_000 });
          assert.match(
            (await refused.textContent()) ?? "",
            /This page is not connected to a running backhaul ui: open the URL it printed\./,
          );
          // Only the fragment changes: the page takes the new token and loads itself again to use it.
          const reloaded = stranger.waitForEvent("load");
          await stranger.goto(`${origin}/#token=wrong-token-for-this-server`);
          await reloaded;
          assert.equal(stranger.url(), `${origin}/`);
          // Refused upgrades read as a lost link while it retries (about 4 s), then it stops and says so.
          await stranger.getByTestId("link-lost").waitFor({ timeout: 5_000 });
          await stranger.getByTestId("link-refused").waitFor({ timeout: 15_000 });
          assert.equal(await stranger.getByTestId("app-version").filter({ hasText: "Version" }).count(), 0);
        } finally {
          await stranger.close();
        }
      });

      await step("picking the sandbox shows the steps, then connected", async () => {
        await recordSteps(page);
        await page.locator('[data-testid="target-item"][data-target-id="sandbox"]').click();
        await page.getByTestId("connect-step").first().waitFor({ timeout: 10_000 });
        await page.screenshot({ path: join(ARTIFACTS, "ui-connecting.png") });
        await untilSessionPhase(page, "connected", 60_000, "the session did not connect", uiLog);
        const seen = (await page.evaluate("window.__steps")) as string[];
        const current = [
          ...new Set(seen.filter((s) => s.endsWith(":current")).map((s) => s.split(":")[0] ?? "")),
        ];
        assert.ok(seen.includes("phase:connecting"), `the phase showed connecting (saw ${seen.join(", ")})`);
        assert.ok(current.length >= 2, `at least two steps were shown in progress (saw ${seen.join(", ")})`);
        const order = current.map((name) => CONNECT_STEPS.indexOf(name as (typeof CONNECT_STEPS)[number]));
        assert.ok(
          order.every((index, i) => index >= 0 && (i === 0 || index > order[i - 1]!)),
          `steps ran in order: ${current.join(" → ")}`,
        );
        assert.ok(
          seen.some((s) => s.endsWith(":done")),
          "finished steps are marked done",
        );
        assert.match(lab.log(), new RegExp(`sandbox: namespace ${lab.sandboxName} plays the remote`));
        assert.equal(
          await page.getByTestId("stat-entrance").textContent(),
          "TUN",
          "the sandbox runs the TUN",
        );
      });

      await step("curl in the sandbox shows a flow row with growing byte counts", async () => {
        await page.getByTestId("tab-flows").click();
        // curl's rate limit only paces reading: with the default receive buffer (up to 6 MB) the
        // whole file would cross the tunnel at once. The sandbox's own sysctl keeps it small.
        const sysctl = await lab.inSandbox("sysctl", ["-w", "net.ipv4.tcp_rmem=4096 65536 131072"]);
        assert.equal(sysctl.code, 0, sysctl.stderr);
        const download = downloadInSandbox(lab, "host.corp.test", DOWNLOAD_BYTES, [
          "--limit-rate",
          RATE_LIMIT,
        ]);
        // The destination reads as the name curl resolved, the address in the cell's tooltip.
        const row = page.locator('[data-testid="flow-row"]', {
          has: page.locator(`[data-col="destination"][title^="${CORP_NET.host.v4}:80 "]`, {
            hasText: "host.corp.test:80",
          }),
        });
        await row.first().waitFor({ timeout: 15_000 }).catch(fail("no flow row for the download"));
        const flowId = await row.first().getAttribute("data-flow-id");
        assert.ok(flowId, "the row carries its flow id");
        const downBytes = async (): Promise<number> =>
          parseBytes(
            (await page
              .locator(`[data-testid="flow-row"][data-flow-id="${flowId}"] [data-col="downBytes"]`)
              .textContent()) ?? "",
          );
        const first = await downBytes();
        await page.waitForTimeout(1_500);
        const second = await downBytes();
        await page.screenshot({ path: join(ARTIFACTS, "ui-flows.png") });
        assert.ok(
          second > first && first >= 0,
          `the row's ↓ bytes grew while curl ran: ${first} → ${second}`,
        );
        assert.ok(second < DOWNLOAD_BYTES, "…and was caught mid-transfer");
        const result = await download;
        assert.equal(result.stdout.trim(), `200 ${DOWNLOAD_BYTES}`, result.stderr);
        await page
          .locator(`[data-testid="flow-row"][data-flow-id="${flowId}"] [data-col="downBytes"]`)
          .filter({ hasText: /^3\.[89] MiB$/ })
          .waitFor({ timeout: 10_000 });
      });

      await step("the flow table filters", async () => {
        const rows = page.getByTestId("flow-row");
        await page.getByTestId("flow-filter").fill(CORP_NET.host.v4);
        await rows.first().waitFor();
        // A named row shows its address in the destination's tooltip, not its text.
        for (const title of await rows
          .locator('[data-col="destination"]')
          .evaluateAll((cells) => cells.map((cell) => cell.getAttribute("title") ?? "")))
          assert.match(title, new RegExp(CORP_NET.host.v4.replaceAll(".", "\\.")));
        await page.getByTestId("flow-filter").fill("no-such-flow.example");
        await rows.first().waitFor({ state: "detached", timeout: 5_000 });
        await page.getByTestId("flow-filter").fill("");
        await rows.first().waitFor();
      });

      await step(
        "curl http://vault.corp.test/ shows its name in the NAT table, and the filter finds it by name",
        async () => {
          const curl = await curlInSandbox(lab, `http://${VAULT}/`);
          assert.match(curl.stdout, /^200 /, curl.stderr);
          const rows = page.getByTestId("flow-row");
          const destinations = rows.locator('[data-col="destination"]');
          await page.getByTestId("flow-filter").fill("vault");
          await destinations
            .filter({ hasText: `${VAULT}:80` })
            .first()
            .waitFor({ timeout: 10_000 })
            .catch(fail(`no flow row reading ${VAULT}:80`));
          assert.deepEqual(
            [...new Set(await destinations.allTextContents())],
            [`${VAULT}:80`],
            "the filter by name keeps only vault's rows",
          );
          assert.equal(
            await destinations.first().getAttribute("title"),
            `${CORP_NET.host.v4}:80 (${VAULT})`,
            "the address it went to is in the tooltip",
          );
          await page.screenshot({ path: join(ARTIFACTS, "ui-flow-names.png") });
          // Filtered by the CNAME's target, vault's rows go: a row holds the name the remote asked.
          await page.getByTestId("flow-filter").fill("host.corp.test");
          await destinations
            .filter({ hasText: VAULT })
            .first()
            .waitFor({ state: "detached", timeout: 5_000 });
          await page.getByTestId("flow-filter").fill("");
        },
      );

      await step("dig in the sandbox shows a DNS row, and the DNS table filters", async () => {
        const dig = await lab.inSandbox("dig", ["+short", "+time=3", "+tries=1", "TXT", "txt.corp.test"]);
        assert.match(dig.stdout, /v=spf1 -all/, dig.stderr);
        await page.getByTestId("tab-dns").click();
        const rows = page.getByTestId("dns-row");
        const txtRow = rows.filter({ hasText: "txt.corp.test" });
        await txtRow.first().waitFor({ timeout: 10_000 }).catch(fail("no DNS row for txt.corp.test"));
        assert.match((await txtRow.first().locator('[data-col="type"]').textContent()) ?? "", /TXT/);
        assert.match((await txtRow.first().locator('[data-col="rcode"]').textContent()) ?? "", /NOERROR/);
        const before = await rows.count();
        assert.ok(before >= 2, "curl's lookup of host.corp.test is there too");
        await page.getByTestId("dns-filter").fill("txt.corp");
        await page.waitForFunction(
          `document.querySelectorAll('[data-testid="dns-row"]').length === 1`,
          undefined,
          { timeout: 5_000 },
        );
        assert.match((await rows.first().textContent()) ?? "", /txt\.corp\.test/);
        // Above the table, the remote's DNS as its agent reports it: L names no search domain, so
        // the default split runs as all (local-dns-domains.ts), over the sandbox's resolv.conf.
        const remoteDns = page.getByTestId("remote-dns");
        await remoteDns.waitFor({ timeout: 10_000 }).catch(fail("no line on the remote's DNS"));
        assert.equal(await remoteDns.getAttribute("data-mode"), "all");
        assert.match((await remoteDns.textContent()) ?? "", /^All DNS: every name the remote looks up/);
        assert.equal(
          await remoteDns.getAttribute("title"),
          "On the remote: resolv.conf names Backhaul's stub",
        );
        await page.screenshot({ path: join(ARTIFACTS, "ui-dns.png") });
        await page.getByTestId("dns-filter").fill("");
      });

      await step(
        "a diagnostic for S's host checks both ends: the remote reaches it through the tunnel",
        async () => {
          await page.getByTestId("tab-diagnostics").click();
          await page.getByTestId("diag-host").fill("host.corp.test");
          await page.getByTestId("diag-port").fill("80");
          await page.getByTestId("diag-run").click();
          const result = page.getByTestId("diag-result");
          await result.waitFor({ timeout: 30_000 }).catch(fail("no diagnostic result"));
          const summary = page.getByTestId("diag-summary");
          assert.equal(await summary.getAttribute("data-verdict-code"), "reachable");
          assert.match(
            (await summary.textContent()) ?? "",
            /The remote reaches host\.corp\.test:80 through the tunnel .* in \d+(\.\d)? ms/,
          );
          assert.match((await page.getByTestId("diag-field-route").textContent()) ?? "", /veth-s/);
          // The remote's side, as its agent answered over the link.
          assert.match(
            (await page.getByTestId("diag-remote-dns").textContent()) ?? "",
            /through Backhaul’s stub/,
          );
          assert.match(
            (await page.getByTestId("diag-remote-route").textContent()) ?? "",
            /into the tunnel \(bh0/,
          );
          assert.match((await page.getByTestId("diag-remote-connect").textContent()) ?? "", /connected in/);
          // The result alone: both ends and the verdict, whatever the window's height.
          await result.screenshot({ path: join(ARTIFACTS, "ui-diagnostics.png") });
        },
      );

      await step("an extra route saved in Settings reaches the running session's remote", async () => {
        await page.getByTestId("tab-settings").click();
        await page.getByTestId("settings-routes").fill(EXTRA_ROUTE);
        await page.getByTestId("settings-save").click();
        await page.getByTestId("settings-saved").waitFor({ timeout: 10_000 });
        await page.screenshot({ path: join(ARTIFACTS, "ui-settings.png") });
        const deadline = Date.now() + 15_000;
        let routes = "";
        while (!routes.includes("bh0") && Date.now() < deadline) {
          routes = (await lab.inSandbox("ip", ["-4", "route", "show", EXTRA_ROUTE])).stdout;
          if (!routes.includes("bh0")) await page.waitForTimeout(250);
        }
        assert.match(
          routes,
          /dev bh0/,
          "the sandbox routes the new prefix into the tunnel, without a reconnect",
        );
        const advertised = await page.getByTestId("stat-prefixes").locator("..").getAttribute("title");
        assert.match(advertised ?? "", new RegExp(EXTRA_ROUTE.replaceAll(".", "\\.")));
        assert.equal(await page.getByTestId("session-phase").textContent(), "connected");
      });

      await step(
        "a prefix the sandbox is on itself: the panel names the overlap the agent skipped",
        async () => {
          // The sandbox joins OVERLAP (an interface of its own), then the window advertises it too.
          await lab.inSandbox("ip", ["link", "add", "ovl0", "type", "veth", "peer", "name", "ovl0-peer"]);
          await lab.inSandbox("ip", ["addr", "add", OVERLAP.remote, "dev", "ovl0"]);
          await lab.inSandbox("ip", ["link", "set", "ovl0-peer", "up"]);
          await lab.inSandbox("ip", ["link", "set", "ovl0", "up"]);
          await page.getByTestId("tab-settings").click();
          await page.getByTestId("settings-routes").fill(`${EXTRA_ROUTE}\n${OVERLAP.network}`);
          await page.getByTestId("settings-save").click();
          await page.getByTestId("settings-saved").waitFor({ timeout: 10_000 });
          await page.getByTestId("tab-diagnostics").click();
          const summary = page.getByTestId("diag-summary");
          // The agent re-plans its routes once the new CONFIG arrives: ask until it has.
          const deadline = Date.now() + 15_000;
          let verdict: string | null = null;
          while (verdict !== "remote-route" && Date.now() < deadline) {
            await page.getByTestId("diag-host").fill(OVERLAP.host);
            await page.getByTestId("diag-port").fill("80");
            await page.getByTestId("diag-run").click();
            await page
              .getByTestId("diag-run")
              .filter({ hasText: /^Check$/ })
              .waitFor({ timeout: 30_000 });
            verdict = await summary.getAttribute("data-verdict-code");
          }
          assert.equal(verdict, "remote-route", (await summary.textContent()) ?? "");
          assert.match(
            (await summary.textContent()) ?? "",
            new RegExp(
              `The remote routes ${OVERLAP.host.replaceAll(".", "\\.")} via its own ovl0 because it is on ` +
                `${OVERLAP.network.replaceAll(".", "\\.")} itself — the prefix ${OVERLAP.network.replaceAll(".", "\\.")} was skipped as an overlap`,
            ),
          );
          assert.match(
            (await page.getByTestId("diag-remote-route").textContent()) ?? "",
            /ovl0, not the tunnel/,
          );
          await page
            .getByTestId("diag-result")
            .screenshot({ path: join(ARTIFACTS, "ui-diagnostics-overlap.png") });
        },
      );

      await step("disconnect restores the sandbox and removes its namespace, within 3 s", async () => {
        assert.deepEqual(await lab.sandboxNamespaces(), [lab.sandboxName]);
        const clicked = Date.now();
        await page.getByTestId("disconnect").click();
        await untilSessionPhase(page, "disconnected", DISCONNECT_MS, "the session did not end", uiLog);
        // The view reports disconnected once the agent has exited; the namespace and then its
        // /etc/netns folder go right after.
        const etcFolder = join("/etc/netns", lab.sandboxName);
        const sandboxLeft = async (): Promise<boolean> =>
          (await lab.sandboxNamespaces()).length > 0 || existsSync(etcFolder);
        while ((await sandboxLeft()) && Date.now() - clicked < DISCONNECT_MS) await page.waitForTimeout(50);
        const elapsed = Date.now() - clicked;
        assert.deepEqual(await lab.sandboxNamespaces(), [], `the sandbox namespace is gone (${elapsed} ms)`);
        assert.equal(existsSync(etcFolder), false, `and its /etc/netns folder (${elapsed} ms)`);
        assert.ok(elapsed <= DISCONNECT_MS, `click to restored in ${elapsed} ms`);
        assert.match(lab.log(), /undone: TUN interface bh0/);
        assert.deepEqual(errors, [], "no errors in the page (CSP violations included)");
      });

      await step(
        "a command saved with a name in Settings is listed in the picker, under Commands",
        async () => {
          await page.getByTestId("tab-settings").click();
          await page.getByTestId("settings-exec-name").fill("devpod");
          await page.getByTestId("settings-exec-command").fill("sh -c 'unbalanced");
          assert.match(
            (await page.getByTestId("settings-exec-error").textContent({ timeout: 5_000 })) ?? "",
            /unbalanced single quote/,
          );
          assert.equal(await page.getByTestId("settings-exec-add").isDisabled(), true);
          await page.getByTestId("settings-exec-command").fill("kubectl exec -i devpod -c dev -- sh");
          await page.getByTestId("settings-exec-add").click();
          await page.getByTestId("settings-save").click();
          await page.getByTestId("settings-saved").waitFor({ timeout: 10_000 });
          await page.getByTestId("tab-session").click();
          await page.getByTestId("target-refresh").click();
          // Found by its command, which the label does not show.
          await page.getByTestId("target-search").fill("kubectl");
          const saved = page
            .locator('[data-testid="target-group"][data-group="exec"] [data-testid="target-item"]')
            .filter({ hasText: "devpod" });
          await saved
            .first()
            .waitFor({ timeout: 10_000 })
            .catch(fail("the saved command is not in the picker"));
          assert.equal(
            await saved.first().getAttribute("data-target-id"),
            "exec:kubectl exec -i devpod -c dev -- sh",
          );
          await page.getByTestId("target-search").fill("");
        },
      );

      await step("a SOCKS port set in Settings is saved and still there after a reload", async () => {
        await page.getByTestId("tab-settings").click();
        await page.getByTestId("settings-socks").fill("nope:1080");
        await page.getByTestId("settings-save").click();
        assert.match(
          (await page.getByTestId("settings-error").textContent({ timeout: 10_000 })) ?? "",
          /socks takes \[ADDR:\]PORT/,
          "main refuses what --socks refuses",
        );
        await page.getByTestId("settings-socks").fill(String(SOCKS_PORT));
        await page.getByTestId("settings-save").click();
        await page.getByTestId("settings-saved").waitFor({ timeout: 10_000 });
        await page.reload();
        await page.getByTestId("tab-settings").click();
        await page.getByTestId("settings-reverse").scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(ARTIFACTS, "ui-settings-reverse.png") });
        assert.equal(
          await page.getByTestId("settings-socks").inputValue({ timeout: 10_000 }),
          String(SOCKS_PORT),
        );
      });

      await step(
        "connected again, this computer reaches a network behind the sandbox through the SOCKS port",
        async () => {
          await page.getByTestId("tab-session").click();
          const sandbox = page.locator('[data-testid="target-item"][data-target-id="sandbox"]').first();
          await sandbox.waitFor({ timeout: 10_000 });
          await page.getByTestId("target-refresh").click();
          await sandbox.filter({ hasText: /used / }).waitFor({ timeout: 10_000 }); // recents: "used 5 s ago"
          await sandbox.click();
          await untilSessionPhase(page, "connected", 60_000, "the second session did not connect", uiLog);
          // Logged as the session connects: the session was given the setting.
          const said = new RegExp(
            `socks: SOCKS5 and HTTP proxy on 127\\.0\\.0\\.1:${SOCKS_PORT}, leaving from the remote`,
          );
          for (let i = 0; i < 50 && !said.test(lab.log()); i++) await page.waitForTimeout(100);
          assert.match(lab.log(), said, "the session was given the SOCKS setting");
          // P behind the sandbox: a namespace of the test's, its end of a veth moved there by the
          // PID of a process in it (the sandbox's namespace is in the UI's mount namespace only).
          const inSandbox = async (args: string[]): Promise<void> => {
            const result = await lab.inSandbox("ip", args);
            assert.equal(result.code, 0, `ip ${args.join(" ")}: ${result.stderr}`);
          };
          const p = await lab.lab.createNamespace("p");
          const holder = p.spawn("sleep", ["600"]);
          await inSandbox([
            "link",
            "add",
            "pv0",
            "type",
            "veth",
            "peer",
            "name",
            "pv1",
            "netns",
            String(holder.pid),
          ]);
          const [sandboxEnd] = onNetwork(REMOTE_PRIVATE.network, REMOTE_PRIVATE.remote);
          const [pEnd] = onNetwork(REMOTE_PRIVATE.network, REMOTE_PRIVATE.server);
          await inSandbox(["addr", "add", sandboxEnd ?? "", "dev", "pv0"]);
          await inSandbox(["link", "set", "pv0", "up"]);
          await p.ip(["addr", "add", pEnd ?? "", "dev", "pv1"]);
          await p.ip(["link", "set", "pv1", "up"]);
          await startServers(p);
          const url = `http://${REMOTE_PRIVATE.server.v4}/`;
          const direct = await lab.local.run("curl", ["-sS", "-m", "5", url]);
          assert.notEqual(direct.code, 0, "this computer cannot reach P itself");
          const proxied = await lab.local.run("curl", [
            "-sS",
            "--fail",
            "-m",
            "20",
            "-x",
            `socks5h://127.0.0.1:${SOCKS_PORT}`,
            url,
          ]);
          assert.equal(
            proxied.stdout,
            "hello from S\n",
            `curl through the SOCKS port: ${proxied.stderr}\n${uiLog()}`,
          );
        },
      );

      await step("SIGTERM restores the sandbox and ends `backhaul ui` with 0", async () => {
        assert.equal(await lab.stopUi(30_000), 0);
        assert.equal(
          (lab.log().match(/undone: TUN interface bh0/g) ?? []).length,
          2,
          "both agents restored the sandbox",
        );
        assert.equal(
          existsSync(join("/etc/netns", lab.sandboxName)),
          false,
          "the sandbox's /etc/netns folder is gone",
        );
      });
    },
  ),
);

test("`backhaul ui` refuses a bad flag with exit code 2", { timeout: 30_000 }, async (t) => {
  if (!existsSync(CLI)) return skipSaying(t, "dist/ is not built: run `npm run build`");
  for (const [args, message] of [
    [["--port", "nope"], /--port takes a port number/],
    [["--link-subnet6", "10.0.0.0/8"], /--link-subnet6 takes an IPv6 CIDR prefix/],
  ] as const) {
    const cli = spawn(process.execPath, [CLI, "ui", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const [code, stderr] = await new Promise<[number | null, string]>((resolve) => {
      let err = "";
      cli.stderr.on("data", (c: Buffer) => (err += c.toString()));
      cli.once("exit", (c) => resolve([c, err]));
    });
    assert.equal(code, 2, `a bad flag exits 2: ${args.join(" ")}`);
    assert.match(stderr, message, `${args.join(" ")} says what is wrong with it`);
  }
});

/**
 * Records, in the page, every connect step state and phase it shows, for the test to read back.
 * A string, not a function: tsx's transform would add helpers the page does not have.
 */
const STEP_RECORDER = `(() => {
  const seen = [];
  window.__steps = seen;
  const note = (entry) => { if (!seen.includes(entry)) seen.push(entry); };
  const scan = () => {
    for (const step of document.querySelectorAll('[data-testid="connect-step"]'))
      note(step.getAttribute("data-step") + ":" + step.getAttribute("data-status"));
    const phase = document.querySelector('[data-testid="session-phase"]')?.textContent;
    if (phase) note("phase:" + phase);
  };
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  scan();
})()`;

async function recordSteps(page: Page): Promise<void> {
  await page.evaluate(STEP_RECORDER);
}
