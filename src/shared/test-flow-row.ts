// For tests only (no shipped module imports it): one flow row with every field set, so a test
// names only the fields it is about.
import type { FlowRow } from "./flow-row.js";

/** An established TCP flow from the remote's 198.18.0.2, no bytes yet; `change` overrides. */
export function testFlowRow(id: number, change: Partial<FlowRow> = {}): FlowRow {
  return {
    id,
    protocol: "tcp",
    family: 4,
    remote: "198.18.0.2:40000",
    destination: "198.19.1.10:80",
    name: null,
    localSocket: null,
    state: "ESTABLISHED",
    upBytes: 0,
    downBytes: 0,
    upPackets: 0,
    downPackets: 0,
    startedAt: 0,
    lastActivityAt: 0,
    closedAt: null,
    closeReason: null,
    ...change,
  };
}
