// The bundled local helper (dist/helper-local.mjs) as the e2e suites start it: under main's
// supervisor, unprivileged, its log lines kept for the assertions.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HelperSupervisor } from "../../src/main/broker/helper/supervisor.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const BUILT_HELPER = join(ROOT, "dist/helper-local.mjs");

/** Why a test of the built helper cannot run, or undefined. */
export function helperNotBuilt(): string | undefined {
  return existsSync(BUILT_HELPER) ? undefined : "dist/ is not built: run `npm run build`";
}

/** The built helper under a supervisor that never elevates; every log line lands in `logs`. */
export function supervisedHelper(logs: string[]): HelperSupervisor {
  return new HelperSupervisor({
    helperPath: BUILT_HELPER,
    elevation: "never",
    log: (line) => logs.push(line),
  });
}
