/**
 * The NAT table under load, in Debian's Chromium: dist/renderer/stress.html renders the real
 * table component fed 10,000 flows that all change every 100 ms, and measures each frame's
 * main-thread time for about 5 s. The figures are printed, not asserted: wall time on a shared
 * CI machine says little. What is asserted is that frames were measured and rows rendered.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import type { StressResult } from "../src/renderer/stress.js";
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from "./ui/browser.js";
import { skipSaying } from "./netns/preconditions.js";

const ROOT = new URL("..", import.meta.url).pathname;
const RENDERER = join(ROOT, "dist", "renderer");
const ARTIFACTS = join(ROOT, "e2e", "artifacts");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

function skipReason(): string | undefined {
  const chromium = chromiumMissing();
  if (chromium) return chromium;
  if (!existsSync(join(RENDERER, "stress.html")))
    return "dist/renderer/stress.html is missing: run `npm run build`";
  return undefined;
}

/** Serves dist/renderer on 127.0.0.1; nothing outside it. */
async function serveRenderer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    const file = normalize(join(RENDERER, path === "/" ? "index.html" : path));
    if (!file.startsWith(RENDERER + sep) || !existsSync(file)) {
      response.writeHead(404).end("not found");
      return;
    }
    response
      .writeHead(200, { "Content-Type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream" })
      .end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("stress page: 10,000 flow rows at 10 Hz in the NAT table", { timeout: 90_000 }, async (t) => {
  const reason = skipReason();
  if (reason) {
    return skipSaying(t, reason);
  }

  const server = await serveRenderer();
  t.after(() => server.close());
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });

  await page.goto(`${server.url}/stress.html`);
  await page.waitForFunction(() => window.__stressResult !== undefined, null, { timeout: 60_000 });
  const result = (await page.evaluate(() => window.__stressResult)) as StressResult;

  console.log(
    `stress: ${result.rows} rows at ${result.updateHz} Hz: median frame ${result.medianMs} ms, ` +
      `p95 ${result.p95Ms} ms over ${result.frames} frames ` +
      `(between frames: median ${result.intervalMedianMs} ms, p95 ${result.intervalP95Ms} ms; ` +
      `generating one update: ${result.generateMedianMs} ms, ${result.updates} updates)`,
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "ui-stress.png") });

  assert.deepEqual(errors, [], "no errors in the page (CSP violations included)");
  assert.ok(result.frames > 0, "frames were measured");
  assert.ok(result.updates > 0, "updates were generated while measuring");
  assert.ok(result.renderedRows > 0, "flow rows were rendered");
  assert.ok(result.renderedRows < 200, `only the rows in view are in the DOM, not ${result.renderedRows}`);
  assert.match(
    (await page.getByTestId("stress-result").textContent()) ?? "",
    /"medianMs"/,
    "the result is shown on the page",
  );
});
