// The session driver (driver.ts) on the full path, as the session suites start it.
import { join } from "node:path";
import type { TestContext } from "node:test";
import { buildFullPath, ROUTES, snapshotRemote, type FullPath } from "../fullpath/topology.js";
import type { ManagedProcess } from "../netns/index.js";
import { readJsonLines } from "../netns/json-lines.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** One state line of the driver. */
export interface DriverState {
  state: string;
  step?: string;
  attempt?: number;
  reason?: string;
}

export interface StartedSession {
  path: FullPath;
  /** R as it was before the agent started. */
  before: Record<string, string>;
  driver: ManagedProcess;
  /** The driver's states and log lines, appended as they come. */
  states: DriverState[];
  logs: string[];
}

/**
 * The full path without a helper (removed after the test; R without duplicate address detection)
 * and the driver in L running `agent`, with `options` before the suite's routes.
 */
export async function startSessionDriver(
  t: TestContext,
  agent: string,
  options: readonly string[] = [],
): Promise<StartedSession> {
  const path = await buildFullPath([], { helper: false });
  t.after(() => path.cleanup());
  await path.remote.runChecked("sysctl", [
    "-qw",
    "net.ipv6.conf.all.accept_dad=0",
    "net.ipv6.conf.default.accept_dad=0",
  ]);
  const before = await snapshotRemote(path);
  const driver = path.local.spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "e2e/session/driver.ts"),
      "--remote",
      path.remote.name,
      "--agent",
      agent,
      "--journal",
      path.journalPath,
      ...options,
      ...ROUTES.flatMap((route) => ["--route", route]),
    ],
    { cwd: ROOT },
  );
  const states: DriverState[] = [];
  const logs: string[] = [];
  readJsonLines(driver.child.stdout, (line) => {
    const value = line as { state?: DriverState; log?: string };
    if (value.state) states.push(value.state);
    if (value.log) logs.push(value.log);
  });
  return { path, before, driver, states, logs };
}
