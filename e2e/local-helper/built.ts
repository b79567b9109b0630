// The bundled local helper (dist/helper-local.mjs) as the e2e suites start it: under main's
// supervisor, or by hand in a namespace; unprivileged, its log kept for the assertions.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { HelperEndpoint } from "../../src/main/broker/helper/helper-client.js";
import { HelperSupervisor } from "../../src/main/broker/helper/supervisor.js";
import type { ManagedProcess, NetnsLab, NetworkNamespace } from "../netns/index.js";
import { whenMet } from "../netns/preconditions.js";

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

/** A supervised helper that has started: its endpoint, its process and its log so far. */
export interface StartedHelper {
  supervisor: HelperSupervisor;
  endpoint: HelperEndpoint;
  pid: number;
  logs: string[];
}

/**
 * A test body against the built helper under main's supervisor (supervisedHelper), started before
 * `body` and stopped after it; skipped, saying why, where dist/ is not built.
 */
export function withSupervisedHelper(
  body: (helper: StartedHelper, t: TestContext) => Promise<void>,
): (t: TestContext) => Promise<void> {
  return whenMet(helperNotBuilt, async (t) => {
    const logs: string[] = [];
    const supervisor = supervisedHelper(logs);
    try {
      const endpoint = await supervisor.endpoint();
      const pid = supervisor.pid;
      assert.ok(pid, "a helper process");
      await body({ supervisor, endpoint, pid, logs }, t);
    } finally {
      await supervisor.stop();
    }
  });
}

/**
 * The built helper in `ns`, on a control directory of `lab`'s prepared as the supervisor prepares it
 * (0700, the token in a 0600 file), once it listens; `log()` is its stderr so far.
 */
export async function startHelperIn(
  lab: NetnsLab,
  ns: NetworkNamespace,
): Promise<{ helper: ManagedProcess; endpoint: HelperEndpoint; log(): string }> {
  const controlDir = lab.tempDir("backhaul-helper-");
  const token = randomBytes(32).toString("hex");
  writeFileSync(join(controlDir, "token"), `${token}\n`, { mode: 0o600 });
  const helper = ns.spawn(process.execPath, [BUILT_HELPER, "--control-dir", controlDir], { cwd: ROOT });
  let log = "";
  helper.child.stdout?.resume();
  await new Promise<void>((resolve, reject) => {
    helper.child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("listening on")) resolve();
    });
    void helper.exited.then((info) =>
      reject(new Error(`the helper exited (${info.code ?? info.signal}): ${log}`)),
    );
  });
  return { helper, endpoint: { socketPath: join(controlDir, "helper.sock"), token }, log: () => log };
}
