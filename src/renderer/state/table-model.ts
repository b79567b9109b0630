/**
 * The live tables as the window holds them: rows from main plus what only the window needs —
 * each flow's rate each way, computed from successive byte counts, and when a row started to
 * end, so that it fades out instead of vanishing. Pure functions over immutable maps: the store
 * calls them once per animation frame with every delta that arrived since the last one.
 */
import type { DnsRow } from "../../shared/dns-row.js";
import type { FlowDirection, FlowRow, TableDelta } from "../../shared/flow-row.js";

/** How long a removed row stays (fading) before it leaves the table. */
export const FADE_MS = 1_000;
/** Time constant of the rate's exponential smoothing: rates follow bursts within about a second. */
export const RATE_TAU_MS = 1_000;
/** Byte counts closer together than this are folded into the next rate sample. */
export const MIN_RATE_INTERVAL_MS = 50;
/** A flow whose counters have not moved for this long shows no rate. */
export const IDLE_MS = 2_000;

export interface FlowEntry {
  row: FlowRow;
  /** Bytes per second, smoothed. */
  upRate: number;
  downRate: number;
  /** The byte counts and time the next rate sample is measured from. */
  sampleUp: number;
  sampleDown: number;
  sampledAt: number;
  /** Whether the rates hold a measurement yet (the first one is taken as is, not smoothed). */
  rated: boolean;
  /** When main removed the row: it fades, then goes. */
  removedAt: number | null;
  /** The row's text columns in lower case, for the filter; carried over while they do not change. */
  search: string;
}

export interface DnsEntry {
  row: DnsRow;
  removedAt: number | null;
  search: string;
}

export type Table<Entry> = ReadonlyMap<number, Entry>;

export function flowTableFrom(rows: readonly FlowRow[], now: number): Map<number, FlowEntry> {
  return new Map(rows.map((row) => [row.id, newFlowEntry(row, now)]));
}

export function dnsTableFrom(rows: readonly DnsRow[]): Map<number, DnsEntry> {
  return new Map(rows.map((row) => [row.id, newDnsEntry(row)]));
}

/**
 * Applies deltas in order; returns the same map when nothing changed. A row upserted several
 * times in one call is measured from where it was before the call: one rate sample, from its
 * last state.
 */
export function applyFlowDeltas(
  table: Table<FlowEntry>,
  deltas: readonly TableDelta<FlowRow>[],
  now: number,
): Table<FlowEntry> {
  return applyDeltas(
    table,
    deltas,
    (row, before) => (before ? updatedFlowEntry(before, row, now) : newFlowEntry(row, now)),
    (entry) => flowEntry(entry, entry.row, 0, 0, now),
  );
}

export function applyDnsDeltas(
  table: Table<DnsEntry>,
  deltas: readonly TableDelta<DnsRow>[],
  now: number,
): Table<DnsEntry> {
  return applyDeltas(table, deltas, newDnsEntry, (entry) => ({
    row: entry.row,
    removedAt: now,
    search: entry.search,
  }));
}

/**
 * What time alone changes: rows that finished fading leave, and flows that went quiet show no
 * rate (main only sends rows that changed, so silence is the only sign). Same map if no change.
 */
export function tickFlows(table: Table<FlowEntry>, now: number): Table<FlowEntry> {
  return tick(table, now, (entry) =>
    (entry.upRate !== 0 || entry.downRate !== 0) && now - entry.sampledAt >= IDLE_MS
      ? flowEntry(entry, entry.row, 0, 0, entry.removedAt)
      : null,
  );
}

export function tickDns(table: Table<DnsEntry>, now: number): Table<DnsEntry> {
  return tick(table, now, () => null);
}

interface Fading {
  removedAt: number | null;
}

/**
 * `upsert` builds an entry from the row and the entry from before the call; `remove` marks a
 * live entry removed. The same map when the deltas hold nothing.
 */
function applyDeltas<Row extends { id: number }, Entry extends Fading>(
  table: Table<Entry>,
  deltas: readonly TableDelta<Row>[],
  upsert: (row: Row, before: Entry | undefined) => Entry,
  remove: (entry: Entry) => Entry,
): Table<Entry> {
  if (deltas.every((delta) => delta.upserts.length === 0 && delta.removals.length === 0)) return table;
  const next = new Map(table);
  for (const delta of deltas) {
    for (const row of delta.upserts) next.set(row.id, upsert(row, table.get(row.id)));
    for (const id of delta.removals) {
      const entry = next.get(id);
      if (entry && entry.removedAt === null) next.set(id, remove(entry));
    }
  }
  return next;
}

/** Drops the rows that finished fading and replaces those `aged` returns a new entry for. */
function tick<Entry extends Fading>(
  table: Table<Entry>,
  now: number,
  aged: (entry: Entry) => Entry | null,
): Table<Entry> {
  let next: Map<number, Entry> | null = null;
  for (const [id, entry] of table) {
    if (entry.removedAt !== null && now - entry.removedAt >= FADE_MS) {
      next ??= new Map(table);
      next.delete(id);
      continue;
    }
    const replacement = aged(entry);
    if (replacement === null) continue;
    next ??= new Map(table);
    next.set(id, replacement);
  }
  return next ?? table;
}

/** "closed" from the row's own close, "removed" once main dropped it; null while live. */
export function flowEnding(entry: FlowEntry): "closed" | "removed" | null {
  if (entry.removedAt !== null) return "removed";
  return entry.row.closedAt !== null ? "closed" : null;
}

function newFlowEntry(row: FlowRow, now: number): FlowEntry {
  return {
    row,
    upRate: 0,
    downRate: 0,
    sampleUp: row.upBytes,
    sampleDown: row.downBytes,
    sampledAt: now,
    rated: false,
    removedAt: null,
    search: withSession(flowSearchText(row), row),
  };
}

/** How the table shows a flow's direction (flow-row.ts). */
export function directionLabel(direction: FlowDirection): string {
  return direction === "local-to-remote" ? "here → remote" : "remote → here";
}

function newDnsEntry(row: DnsRow): DnsEntry {
  return { row, removedAt: null, search: withSession(dnsSearchText(row), row) };
}

/** The filter also finds a row by its session's name. */
function withSession(text: string, row: { session?: string }): string {
  return row.session ? `${text} ${row.session.toLowerCase()}` : text;
}

/** What the filter matches in a flow: every column that is text, not a counter. */
export function flowSearchText(row: FlowRow): string {
  const local = row.localSocket ?? "";
  const reason = row.closeReason ?? "";
  const name = row.name === null ? "" : ` ${row.name}`;
  // "local-to-remote" or "remote-to-local" in the filter picks one direction.
  const way = row.direction ?? "remote-to-local";
  return `${row.protocol} ${row.remote} ${row.destination}${name} ${local} ${row.state} ${reason} ${way} ${directionLabel(way)}`.toLowerCase();
}

export function dnsSearchText(row: DnsRow): string {
  const detail = row.detail ?? "";
  return `${row.name} ${row.type} ${row.answers.join(" ")} ${row.rcode} ${row.resolver} ${detail} ${row.transport}`.toLowerCase();
}

function sameFlowText(a: FlowRow, b: FlowRow): boolean {
  return (
    a.state === b.state &&
    a.localSocket === b.localSocket &&
    a.closeReason === b.closeReason &&
    a.remote === b.remote &&
    a.destination === b.destination &&
    a.name === b.name &&
    a.protocol === b.protocol &&
    a.direction === b.direction
  );
}

// Entries are built field by field, not spread: at 10,000 rows per delta the difference shows.
/** A copy of `previous` (its rate sample and search text) with a new row, rates and removal. */
function flowEntry(
  previous: Pick<FlowEntry, "sampleUp" | "sampleDown" | "sampledAt" | "rated" | "search">,
  row: FlowRow,
  upRate: number,
  downRate: number,
  removedAt: number | null,
): FlowEntry {
  return {
    row,
    upRate,
    downRate,
    sampleUp: previous.sampleUp,
    sampleDown: previous.sampleDown,
    sampledAt: previous.sampledAt,
    rated: previous.rated,
    removedAt,
    search: previous.search,
  };
}

function updatedFlowEntry(previous: FlowEntry, row: FlowRow, now: number): FlowEntry {
  const elapsed = now - previous.sampledAt;
  // A row's session never changes (main numbers each session's rows apart): only its text is compared.
  const search = sameFlowText(previous.row, row) ? previous.search : withSession(flowSearchText(row), row);
  // A closed flow moves nothing; counts this close together wait for the next sample.
  if (row.closedAt !== null || elapsed < MIN_RATE_INTERVAL_MS) {
    const closed = row.closedAt !== null;
    return {
      row,
      upRate: closed ? 0 : previous.upRate,
      downRate: closed ? 0 : previous.downRate,
      sampleUp: previous.sampleUp,
      sampleDown: previous.sampleDown,
      sampledAt: previous.sampledAt,
      rated: previous.rated,
      removedAt: null,
      search,
    };
  }
  const seconds = elapsed / 1_000;
  const upNow = Math.max(0, row.upBytes - previous.sampleUp) / seconds;
  const downNow = Math.max(0, row.downBytes - previous.sampleDown) / seconds;
  const weight = previous.rated ? 1 - Math.exp(-elapsed / RATE_TAU_MS) : 1;
  return {
    row,
    upRate: previous.upRate + weight * (upNow - previous.upRate),
    downRate: previous.downRate + weight * (downNow - previous.downRate),
    sampleUp: row.upBytes,
    sampleDown: row.downBytes,
    sampledAt: now,
    rated: true,
    removedAt: null,
    search,
  };
}
