/**
 * Debian's Chromium through playwright-core (browsers cannot be downloaded on these machines),
 * started inside a network namespace so that its 127.0.0.1 is the namespace's, where the UI
 * listens: playwright runs a small wrapper that execs Chromium under `ip netns exec`, which
 * keeps the pipes playwright talks over.
 */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Why a browser test cannot run here for want of Chromium, or undefined. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `${CHROMIUM} is missing: install Debian's chromium (sudo npm test does)`;
}

/** `dir` holds the wrapper script; playwright gives the browser its own throwaway profile. */
export function launchChromiumIn(namespace: string, dir: string): Promise<Browser> {
  const wrapper = join(dir, "chromium-in-netns.sh");
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${namespace} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return chromium.launch({ executablePath: wrapper, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** "1.5 MiB" (the renderer's formatBytes) back to bytes, roughly. */
export function parseBytes(text: string): number {
  const match = /^([\d.]+)\s*(B|KiB|MiB|GiB|TiB)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const power = ["B", "KiB", "MiB", "GiB", "TiB"].indexOf(match[2] ?? "B");
  return Number(match[1]) * 1024 ** power;
}
