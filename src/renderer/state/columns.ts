/** The columns of the NAT and DNS tables: what each cell shows and what it sorts by. */
import { formatBytes, formatClock, formatDuration, formatLatency, formatRate } from "../format.js";
import { destinationTooltip, shownDestination } from "./flow-destination.js";
import { directionLabel, type DnsEntry, type FlowEntry } from "./table-model.js";
import type { Column, SortSpec } from "./table-query.js";

type Placement = Pick<Column<unknown>, "id" | "title" | "width" | "grow">;

/** Text that sorts A to Z on the first click; `show` is the cell where it differs from the sort value. */
function textColumn<Entry>(
  placement: Placement,
  value: (entry: Entry) => string,
  show: (entry: Entry) => string = value,
): Column<Entry> {
  return { ...placement, text: show, sortValue: value, firstDirection: "asc" };
}

/** A right-aligned number that sorts largest first on the first click. */
function numberColumn<Entry>(
  placement: Placement,
  value: (entry: Entry) => number,
  format: (value: number) => string,
): Column<Entry> {
  return {
    ...placement,
    align: "end",
    text: (entry) => format(value(entry)),
    sortValue: value,
    firstDirection: "desc",
  };
}

/** Which session a row is of, by its target's name (several can run at once). */
function sessionColumn<Entry extends { row: { session?: string } }>(): Column<Entry> {
  return textColumn({ id: "session", title: "Session", width: 100, grow: 0.6 }, (e) => e.row.session ?? "");
}

export const FLOW_COLUMNS: readonly Column<FlowEntry>[] = [
  sessionColumn<FlowEntry>(),
  textColumn(
    { id: "protocol", title: "Proto", width: 64 },
    (e) => e.row.protocol,
    (e) => e.row.protocol.toUpperCase(),
  ),
  textColumn(
    { id: "direction", title: "Way", width: 112 },
    (e) => e.row.direction ?? "remote-to-local",
    (e) => directionLabel(e.row.direction ?? "remote-to-local"),
  ),
  textColumn({ id: "remote", title: "Remote source", width: 150, grow: 1 }, (e) => e.row.remote),
  {
    ...textColumn(
      { id: "destination", title: "Destination", width: 150, grow: 1.1 },
      (e) => e.row.name ?? e.row.destination,
      (e) => shownDestination(e.row),
    ),
    tooltip: (e) => destinationTooltip(e.row),
  },
  textColumn(
    { id: "localSocket", title: "Local socket", width: 150, grow: 1 },
    (e) => e.row.localSocket ?? "",
    (e) => e.row.localSocket ?? "–",
  ),
  textColumn({ id: "state", title: "State", width: 108 }, (e) => e.row.state),
  numberColumn({ id: "upBytes", title: "↑ Bytes", width: 86 }, (e) => e.row.upBytes, formatBytes),
  numberColumn({ id: "upRate", title: "↑ Rate", width: 100 }, (e) => e.upRate, formatRate),
  numberColumn({ id: "downBytes", title: "↓ Bytes", width: 86 }, (e) => e.row.downBytes, formatBytes),
  numberColumn({ id: "downRate", title: "↓ Rate", width: 100 }, (e) => e.downRate, formatRate),
  {
    id: "age",
    title: "Age",
    width: 66,
    align: "end",
    text: (e, now) => formatDuration(now - e.row.startedAt),
    // Older first is "largest age first": the start time, reversed.
    sortValue: (e) => -e.row.startedAt,
    firstDirection: "desc",
  },
];

export const DEFAULT_FLOW_SORT: SortSpec = { column: "age", direction: "asc" };

export const DNS_COLUMNS: readonly Column<DnsEntry>[] = [
  sessionColumn<DnsEntry>(),
  {
    id: "time",
    title: "Time",
    width: 76,
    text: (e) => formatClock(e.row.at),
    sortValue: (e) => e.row.at,
    firstDirection: "desc",
  },
  textColumn({ id: "name", title: "Name", width: 160, grow: 1.3 }, (e) => e.row.name),
  textColumn({ id: "type", title: "Type", width: 64 }, (e) => e.row.type),
  textColumn(
    { id: "answers", title: "Answer", width: 160, grow: 1.6 },
    (e) => e.row.answers[0] ?? "",
    (e) => (e.row.answers.length > 0 ? e.row.answers.join(", ") : "–"),
  ),
  {
    id: "ttl",
    title: "TTL",
    width: 64,
    align: "end",
    text: (e) => (e.row.ttl === null ? "–" : `${e.row.ttl}s`),
    sortValue: (e) => e.row.ttl ?? -1,
    firstDirection: "desc",
  },
  textColumn({ id: "rcode", title: "Response", width: 92 }, (e) => e.row.rcode),
  numberColumn({ id: "latency", title: "Latency", width: 84 }, (e) => e.row.latencyMs, formatLatency),
  {
    ...textColumn({ id: "resolver", title: "Resolver", width: 110, grow: 0.9 }, (e) => e.row.resolver),
    // Why this resolver: the VPN domain that chose it, or what failed before it answered.
    tooltip: (e) => (e.row.detail === null ? e.row.resolver : `${e.row.resolver}: ${e.row.detail}`),
  },
];

export const DEFAULT_DNS_SORT: SortSpec = { column: "time", direction: "desc" };
