// What a Backhaul session costs besides throughput: the helper's memory just after connecting, after
// the run, and with 1,000 open flows (connections from R to S's echo server, held open), and how
// often it wakes while those flows are silent.
import { readFileSync } from "node:fs";
import { ChildRpc } from "../../netns/child-rpc.js";
import { CORP_NET } from "../../netns/address-plan.js";
import type { HoldCommands } from "./hold-connections.js";
import { contextSwitches, forwarders } from "./round-trip-cost.js";
import type { BenchTopology } from "./topology.js";

export const HELD_FLOWS = 1_000;
const IDLE_WINDOW_MS = 3_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ConnectionCost {
  /** From starting `backhaul connect` to its "connected" event. */
  connectMs?: number;
  /** The helper's resident memory: just connected, after the measurements, and with the flows. */
  helperRssIdleMiB?: number;
  helperRssAfterRunMiB?: number;
  helperRssWithFlowsMiB?: number;
  /** The helper's context switches per second while the flows are open and silent. */
  helperWakeupsPerSecond?: number;
  /** How many of HELD_FLOWS connections were open when the last figure was read. */
  flowsHeld?: number;
  /** Why a figure is missing. */
  note?: string;
}

/** VmRSS of PID in MiB. */
export function rssMiB(pid: number): number {
  const kB = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kB === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kB) / 1024;
}

/** The helper process of the session in L, if there is exactly one. */
export async function helperPid(t: BenchTopology): Promise<number | undefined> {
  const helpers = (await forwarders(t.remote, t.local)).filter(
    (p) => p.side === "L" && p.process === "helper",
  );
  return helpers.length === 1 ? helpers[0]?.pid : undefined;
}

/** Opens HELD_FLOWS connections from R through the path, reads the helper's memory, closes them. */
export async function rssWithFlows(
  t: BenchTopology,
  pid: number,
): Promise<
  Pick<
    ConnectionCost,
    "helperRssAfterRunMiB" | "helperRssWithFlowsMiB" | "helperWakeupsPerSecond" | "flowsHeld" | "note"
  >
> {
  const before = rssMiB(pid);
  const holder = ChildRpc.start<HoldCommands>(t.remote, "e2e/bench/ssh/hold-connections.ts");
  try {
    const opened = await holder.request(
      "open",
      { host: CORP_NET.host.v4, port: 7, count: HELD_FLOWS },
      120_000,
    );
    // Let the helper's tables and buffers settle the way an idle session with open flows does.
    await sleep(1_000);
    const switches = contextSwitches(pid);
    await sleep(IDLE_WINDOW_MS);
    const helperWakeupsPerSecond = (contextSwitches(pid) - switches) / (IDLE_WINDOW_MS / 1000);
    return {
      helperRssAfterRunMiB: before,
      helperRssWithFlowsMiB: rssMiB(pid),
      helperWakeupsPerSecond,
      flowsHeld: opened.open,
      ...(opened.failed.length > 0 && {
        note: `${HELD_FLOWS - opened.open} connections failed: ${opened.failed.join("; ")}`,
      }),
    };
  } finally {
    await holder.request("close", {}, 10_000).catch(() => undefined);
    await holder.stop();
  }
}
