// Driving the window (the renderer in Chromium) the way the browser suites all do: pick a target,
// wait for the session's phase; a wait that times out carries backhaul ui's log.
import type { Page } from "playwright-core";

/** Searches the target list for `id` and clicks it once it is listed. */
export async function pickTarget(page: Page, id: string): Promise<void> {
  await page.getByTestId("target-search").fill(id);
  const target = page.locator(`[data-testid="target-item"][data-target-id="${id}"]`);
  await target.waitFor({ timeout: 15_000 });
  await target.click();
}

/** Waits for the session phase to read `phase`; on time-out the error says `what` and ends with `uiLog()`. */
export async function untilSessionPhase(
  page: Page,
  phase: "connected" | "disconnected",
  timeoutMs: number,
  what: string,
  uiLog: () => string,
): Promise<void> {
  await page
    .getByTestId("session-phase")
    .filter({ hasText: new RegExp(`^${phase}$`) })
    .waitFor({ timeout: timeoutMs })
    .catch(failingWithLog(what, uiLog));
}

/** A `.catch()` handler that throws the error again as `what`, with backhaul ui's log below it. */
export function failingWithLog(what: string, uiLog: () => string): (error: unknown) => never {
  return (error) => {
    throw new Error(`${what}: ${(error as Error).message}\n--- backhaul ui log ---\n${uiLog()}`);
  };
}
