/**
 * The NAT and DNS tables. Deltas are queued as they arrive and applied together once per
 * animation frame, so a burst of events costs one render; a timer stands in for the frame when
 * the window is hidden and frames stop.
 */
import { create } from "zustand";
import type { TablesSnapshot } from "../../shared/api.js";
import type { DnsRow } from "../../shared/dns-row.js";
import type { FlowRow, TableDelta } from "../../shared/flow-row.js";
import {
  applyDnsDeltas,
  applyFlowDeltas,
  dnsTableFrom,
  flowTableFrom,
  tickDns,
  tickFlows,
  type DnsEntry,
  type FlowEntry,
  type Table,
} from "./table-model.js";

interface TablesState {
  flows: Table<FlowEntry>;
  dns: Table<DnsEntry>;
  /** The clock that ages are shown against; moves twice a second. */
  now: number;
  /** A snapshot is being fetched: deltas until it lands are already in it. */
  awaitingSnapshot: boolean;
}

export const useTablesStore = create<TablesState>(() => ({
  flows: new Map(),
  dns: new Map(),
  now: Date.now(),
  awaitingSnapshot: false,
}));

const HIDDEN_FLUSH_MS = 250;
const CLOCK_MS = 500;

let pendingFlows: TableDelta<FlowRow>[] = [];
let pendingDns: TableDelta<DnsRow>[] = [];
let frame: number | null = null;
let fallback: ReturnType<typeof setTimeout> | null = null;

export function enqueueFlowDelta(delta: TableDelta<FlowRow>): void {
  if (useTablesStore.getState().awaitingSnapshot) return;
  pendingFlows.push(delta);
  scheduleFlush();
}

export function enqueueDnsDelta(delta: TableDelta<DnsRow>): void {
  if (useTablesStore.getState().awaitingSnapshot) return;
  pendingDns.push(delta);
  scheduleFlush();
}

/**
 * Main sends events and responses in order on one channel: deltas that arrive before the
 * snapshot's response are in the snapshot, so they are dropped, not applied twice.
 */
export function beginSnapshot(): void {
  cancelFlush();
  pendingFlows = [];
  pendingDns = [];
  useTablesStore.setState({ awaitingSnapshot: true });
}

export function applySnapshot(snapshot: TablesSnapshot): void {
  const now = Date.now();
  cancelFlush();
  pendingFlows = [];
  pendingDns = [];
  useTablesStore.setState({
    flows: flowTableFrom(snapshot.flows, now),
    dns: dnsTableFrom(snapshot.dns),
    now,
    awaitingSnapshot: false,
  });
}

/** The snapshot could not be fetched: take deltas again rather than freeze the tables. */
export function abandonSnapshot(): void {
  useTablesStore.setState({ awaitingSnapshot: false });
}

/** Moves the tables' clock (ages, fading, idle rates) until the returned function is called. */
export function startTablesClock(): () => void {
  const timer = setInterval(() => {
    const now = Date.now();
    const { flows, dns } = useTablesStore.getState();
    useTablesStore.setState({ now, flows: tickFlows(flows, now), dns: tickDns(dns, now) });
  }, CLOCK_MS);
  return () => clearInterval(timer);
}

function scheduleFlush(): void {
  if (frame !== null) return;
  frame = requestAnimationFrame(flush);
  fallback = setTimeout(flush, HIDDEN_FLUSH_MS);
}

function cancelFlush(): void {
  if (frame !== null) cancelAnimationFrame(frame);
  if (fallback !== null) clearTimeout(fallback);
  frame = null;
  fallback = null;
}

function flush(): void {
  cancelFlush();
  const flowDeltas = pendingFlows;
  const dnsDeltas = pendingDns;
  pendingFlows = [];
  pendingDns = [];
  const now = Date.now();
  const { flows, dns } = useTablesStore.getState();
  useTablesStore.setState({
    flows: flowDeltas.length > 0 ? applyFlowDeltas(flows, flowDeltas, now) : flows,
    dns: dnsDeltas.length > 0 ? applyDnsDeltas(dns, dnsDeltas, now) : dns,
  });
}
