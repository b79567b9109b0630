// The browser-mode lab (topology.ts) with Chromium in L, as the window's browser tests start it.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Browser } from "playwright-core";
import { netnsSkipReason } from "../netns/preconditions.js";
import { chromiumMissing, launchChromiumIn } from "./browser.js";
import type { CommandResult } from "../netns/index.js";
import { buildUiLab, type UiLab } from "./topology.js";

const DIST = new URL("../../dist/", import.meta.url).pathname;

/** What the lab runs from dist/: `backhaul ui`, the window, and the sandbox's agent with its addon. */
const BUILT_FILES = [
  "cli.mjs",
  "renderer/index.html",
  "agent/backhaul-agent.cjs",
  "agent/backhaul_native.node",
];

/** Why startUiLabInBrowser cannot run here, with `tools` also run in the lab; undefined when it can. */
export function uiLabSkipReason(tools: readonly string[]): string | undefined {
  const netns = netnsSkipReason({ tun: true, tools: ["dnsmasq", "nsenter", ...tools] });
  if (netns) return netns;
  const chromium = chromiumMissing();
  if (chromium) return chromium;
  const missing = BUILT_FILES.find((file) => !existsSync(DIST + file));
  return missing && `dist/${missing} is missing: run \`npm run build\``;
}

/**
 * curl in the sandbox, IPv4, fetching /bytes/`bytes` from the HTTP server `host` (a name or an
 * address) and discarding the body; its stdout is "CODE SIZE". `options` go to curl first.
 */
export function downloadInSandbox(
  lab: Pick<UiLab, "inSandbox">,
  host: string,
  bytes: number,
  options: readonly string[] = [],
): Promise<CommandResult> {
  return curlInSandbox(lab, `http://${host}/bytes/${bytes}`, options);
}

/** `curl` of `url` in the sandbox over IPv4, its stdout "STATUS SIZE" (the body is dropped). */
export function curlInSandbox(
  lab: Pick<UiLab, "inSandbox">,
  url: string,
  options: readonly string[] = [],
): Promise<CommandResult> {
  return lab.inSandbox(
    "curl",
    [...options, "-4", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url],
    30_000,
  );
}

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
