/** A live table's panel: the filter box and counts over the filtered, sorted rows. */
import { useCallback, useMemo } from "react";
import { useSessionStore } from "../state/session-store.js";
import type { Table } from "../state/table-model.js";
import { nextSort, queryRows, type Column } from "../state/table-query.js";
import { changeTableView, useTableViewStore, type TableKind } from "../state/table-view-store.js";
import { count, TableToolbar } from "./TableToolbar.js";
import { VirtualTable } from "./VirtualTable.js";

/** What both tables' entries carry: the row main sent, and its text in lower case for the filter. */
interface ListedEntry {
  row: { id: number; session?: string };
  search: string;
}

const idOf = (entry: ListedEntry) => entry.row.id;
const searchText = (entry: ListedEntry) => entry.search;

interface TablePanelProps<Entry extends ListedEntry> {
  kind: TableKind;
  label: string;
  entries: Table<Entry>;
  columns: readonly Column<Entry>[];
  /** The time ages are shown against; 0 when no column shows an age. */
  now: number;
  placeholder: string;
  /** The counts of the whole table; the filter's matches are added after them. */
  summary: string;
  endingOf(entry: Entry): "closed" | "removed" | null;
  /** What the table says when it has no rows at all, and when the filter hides them all. */
  empty: string;
  emptyFiltered: string;
}

export function TablePanel<Entry extends ListedEntry>(props: TablePanelProps<Entry>) {
  const { kind, entries, columns } = props;
  const { filter, session, sort } = useTableViewStore((views) => views[kind]);
  const held = useSessionStore((s) => s.sessions);
  // The sessions main holds, and any other a row still names (one just ended).
  const sessions = useMemo(() => {
    const names = new Set(held.flatMap((view) => (view.target ? [view.target.label] : [])));
    for (const entry of entries.values()) if (entry.row.session) names.add(entry.row.session);
    if (session) names.add(session);
    return [...names].sort();
  }, [held, entries, session]);
  const rows = useMemo(() => {
    const shown = session
      ? [...entries.values()].filter((entry) => entry.row.session === session)
      : entries.values();
    return queryRows(shown, { columns, sort, filter, searchText, id: idOf });
  }, [entries, columns, sort, filter, session]);
  const onSort = useCallback(
    (column: Column<Entry>) => changeTableView(kind, (view) => ({ sort: nextSort(view.sort, column) })),
    [kind],
  );

  return (
    <section className="table-panel" aria-label={props.label}>
      <TableToolbar
        kind={kind}
        filter={filter}
        placeholder={props.placeholder}
        onFilter={(text) => changeTableView(kind, () => ({ filter: text }))}
        session={session}
        sessions={sessions}
        onSession={(name) => changeTableView(kind, () => ({ session: name }))}
        summary={`${props.summary}${filter || session ? ` · ${count(rows.length, "match", "matches")}` : ""}`}
      />
      <VirtualTable
        kind={kind}
        columns={columns}
        rows={rows}
        now={props.now}
        sort={sort}
        onSort={onSort}
        idOf={idOf}
        endingOf={props.endingOf}
        empty={(filter || session) && entries.size > 0 ? props.emptyFiltered : props.empty}
      />
    </section>
  );
}
