// JSON lines between a test and tun-harness.ts (the process that owns a TUN device inside a
// namespace, since the test process itself cannot enter one). Packets travel as base64.
import type { TunStats } from "../../src/helper/tun/index.js";

export interface TunConfig {
  name: string;
  mtu: number;
  /** e.g. "198.18.0.1/30", "2001:db8:1::1/64" */
  addresses: string[];
  /** Prefixes routed into the TUN, e.g. "198.19.0.0/24". */
  routes: string[];
}

export type HarnessRequest =
  | { id: number; op: "open"; config: TunConfig }
  | { id: number; op: "write"; packets: string[] }
  | { id: number; op: "stats" }
  | { id: number; op: "pause" }
  | { id: number; op: "resume" }
  | { id: number; op: "close" };

export type HarnessMessage =
  | { event: "packets"; packets: string[] }
  | { event: "reply"; id: number; name?: string; written?: number; stats?: TunStats }
  | { event: "failed"; id: number; message: string; code?: string }
  | { event: "tun-error"; message: string; code?: string };
