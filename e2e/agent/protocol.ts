// Between agent-cleanup.test.ts and driver.ts: the config as the driver's one argument, then
// events and one command over e2e/netns/child-rpc.ts.
import type { SkippedPrefix } from "../../src/helper/agent/index.js";

export interface DriverConfig {
  /** The namespace the driver runs in: /etc/resolv.conf must be its /etc/netns file, bind-mounted. */
  netns: string;
  journalPath: string;
  tun: { name: string; mtu: number; addresses: string[] };
  advertised: string[];
  dnsServers: string[];
  /** Wait for "continue" after recovery, so the test can look at the system. */
  pauseAfterRecovery: boolean;
}

export type DriverEvent =
  | { event: "refused"; message: string }
  | { event: "recovered"; previousOwner: number | null; lines: string[]; failed: number }
  | {
      event: "ready";
      routed: string[];
      skipped: SkippedPrefix[];
      failed: string[];
      dns: { kind: string; reason: string; warnings: string[] };
    }
  | { event: "failed"; message: string }
  | { event: "undone"; reason: string; lines: string[]; failed: number };

export type DriverCommands = {
  /** Goes on after recovery (with pauseAfterRecovery). */
  continue: { args: null; result: void };
};
