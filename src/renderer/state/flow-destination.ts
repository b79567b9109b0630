/**
 * The NAT table's destination as a person reads it: the name the remote resolved it from, with
 * the port ("vault.corp.example:5432"); the address stays in the cell's tooltip. Computed only for
 * the rows in view: the sort and the filter use the row's fields as they are.
 */
import type { FlowRow } from "../../shared/flow-row.js";

/** "name:port" for a named flow (the name alone for ICMP, which has no port); else the address. */
export function shownDestination(row: Pick<FlowRow, "destination" | "name">): string {
  if (row.name === null) return row.destination;
  const port = /^(?:\[[^\]]*\]|[^:]*):(\d+)$/.exec(row.destination)?.[1];
  return port === undefined ? row.name : `${row.name}:${port}`;
}

/** The cell's tooltip: the address, and the name when there is one. */
export function destinationTooltip(row: Pick<FlowRow, "destination" | "name">): string {
  return row.name === null || row.name === row.destination
    ? row.destination
    : `${row.destination} (${row.name})`;
}
