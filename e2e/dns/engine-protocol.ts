// What e2e/dns/topology.ts asks of engine-process.ts, over e2e/netns/child-rpc.ts.
import type { DnsCounters } from "../../src/helper/engines/dns/dns-counters.js";
import type { DnsRow } from "../../src/shared/dns-row.js";

export interface EngineReport {
  counters: DnsCounters;
  rows: DnsRow[];
}

export type EngineCommands = {
  /** The engine's counters and its table's rows, as they are now. */
  report: { args: null; result: EngineReport };
};

/** The one event: the engine answers on 127.0.0.1:port, with the resolvers it read. */
export interface EngineReady {
  ready: true;
  port: number;
  resolvers: unknown;
}
