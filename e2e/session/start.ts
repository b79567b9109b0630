// The session driver (driver.ts) on the full path, as the session suites start it.
import type { TestContext } from "node:test";
import { buildFullPath, snapshotRemote, type FullPath } from "../fullpath/topology.js";
import { ADVERTISED, prefixes } from "../netns/address-plan.js";
import { ChildRpc } from "../netns/child-rpc.js";
import type { DriverState, SessionCommands, SessionEvent } from "./protocol.js";

export interface StartedSession {
  path: FullPath;
  /** R as it was before the agent started. */
  before: Record<string, string>;
  driver: ChildRpc<SessionCommands, SessionEvent>;
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
  const driver = ChildRpc.start<SessionCommands, SessionEvent>(path.local, "e2e/session/driver.ts", {
    args: [
      "--remote",
      path.remote.name,
      "--agent",
      agent,
      "--journal",
      path.journalPath,
      ...options,
      ...prefixes(ADVERTISED).flatMap((route) => ["--route", route]),
    ],
    name: "the session driver",
  });
  const states: DriverState[] = [];
  const logs: string[] = [];
  driver.onEvent((event) => {
    if ("state" in event) states.push(event.state);
    if ("log" in event) logs.push(event.log);
  });
  return { path, before, driver, states, logs };
}
