/**
 * The renderer in a real Chromium, served by `backhaul ui` (browser mode) from the built dist/.
 * Uses Debian's Chromium through playwright-core: browsers cannot be downloaded on these machines.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";

const ROOT = new URL("..", import.meta.url).pathname;
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "e2e", "artifacts");
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

function skipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: install Debian's chromium (sudo npm test does)`;
  if (!existsSync(join(ROOT, "dist", "cli.mjs"))) return "dist/ is not built: run `npm run build`";
  return undefined;
}

test(
  "browser mode serves the renderer, which shows the session state and version",
  { timeout: 60_000 },
  async (t) => {
    const reason = skipReason();
    if (reason) return t.skip(reason);

    const cli = spawn(process.execPath, [join(ROOT, "dist", "cli.mjs"), "ui", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    t.after(() => {
      if (cli.exitCode === null) cli.kill("SIGTERM");
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`no URL from backhaul ui: ${out}`)), 15_000);
      cli.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      cli.once("exit", (code) => reject(new Error(`backhaul ui exited with ${code}: ${out}`)));
    });

    // playwright launches with its own throwaway profile directory.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    t.after(() => browser.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });

    await page.goto(url);
    await page.getByTestId("app-version").filter({ hasText: "Version" }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId("session-state").textContent(), "State: disconnected");
    assert.match((await page.getByTestId("app-version").textContent()) ?? "", /^Version \S+ on linux$/);
    assert.doesNotMatch(page.url(), /token=/, "the token leaves the address bar after the first request");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "ui-browser-mode.png") });
    assert.deepEqual(errors, [], "no errors in the page (CSP violations included)");

    const cli2 = spawn(process.execPath, [join(ROOT, "dist", "cli.mjs"), "ui", "--port", "nope"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [code, stderr] = await new Promise<[number | null, string]>((resolve) => {
      let err = "";
      cli2.stderr.on("data", (c: Buffer) => (err += c.toString()));
      cli2.once("exit", (c) => resolve([c, err]));
    });
    assert.equal(code, 2, "a bad flag exits 2");
    assert.match(stderr, /--port takes a port number/);
  },
);
