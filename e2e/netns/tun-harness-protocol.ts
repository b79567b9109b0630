// What a test asks of tun-harness.ts (the process that owns a TUN device inside a namespace, since
// the test process itself cannot enter one), over child-rpc.ts. Packets travel as base64.
import type { TunStats } from "../../src/helper/system/tun/index.js";

export interface TunConfig {
  name: string;
  mtu: number;
  /** e.g. "198.18.0.1/30", "2001:db8:1::1/64" */
  addresses: string[];
  /** Prefixes routed into the TUN, e.g. "198.19.0.0/24". */
  routes: string[];
}

export type HarnessCommands = {
  /** Opens the device, gives it its addresses and routes; answers its name. */
  open: { args: TunConfig; result: string };
  /** Writes packets (base64); answers how many the device took. */
  write: { args: string[]; result: number };
  pause: { args: null; result: void };
  resume: { args: null; result: void };
  stats: { args: null; result: TunStats };
  /** Closes the device and stops reading requests; answers its final stats. */
  close: { args: null; result: TunStats };
};

export type HarnessEvent =
  { event: "packets"; packets: string[] } | { event: "tun-error"; message: string; code?: string };
