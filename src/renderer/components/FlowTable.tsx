/** The NAT table: one row per flow the remote opened through this computer. */
import { useCallback, useMemo } from "react";
import { FLOW_COLUMNS } from "../state/columns.js";
import { flowEnding, type FlowEntry } from "../state/table-model.js";
import { nextSort, queryRows, type Column } from "../state/table-query.js";
import { useTableViewStore } from "../state/table-view-store.js";
import { useTablesStore } from "../state/tables-store.js";
import { count, TableToolbar } from "./TableToolbar.js";
import { VirtualTable } from "./VirtualTable.js";

const flowId = (entry: FlowEntry) => entry.row.id;
const flowSearch = (entry: FlowEntry) => entry.search;

export function FlowTable() {
  const flows = useTablesStore((s) => s.flows);
  const now = useTablesStore((s) => s.now);
  const filter = useTableViewStore((s) => s.flowFilter);
  const sort = useTableViewStore((s) => s.flowSort);
  const rows = useMemo(
    () =>
      queryRows(flows.values(), { columns: FLOW_COLUMNS, sort, filter, searchText: flowSearch, id: flowId }),
    [flows, sort, filter],
  );
  const onSort = useCallback((column: Column<FlowEntry>) => {
    useTableViewStore.setState((s) => ({ flowSort: nextSort(s.flowSort, column) }));
  }, []);
  const open = useMemo(() => {
    let count = 0;
    for (const entry of flows.values()) if (flowEnding(entry) === null) count++;
    return count;
  }, [flows]);

  return (
    <section className="table-panel" aria-label="NAT table">
      <TableToolbar
        kind="flow"
        filter={filter}
        placeholder="Filter flows: protocol, address, port, state…"
        onFilter={(flowFilter) => useTableViewStore.setState({ flowFilter })}
        summary={`${open.toLocaleString()} open · ${flows.size.toLocaleString()} listed${filter ? ` · ${count(rows.length, "match", "matches")}` : ""}`}
      />
      <VirtualTable
        kind="flow"
        columns={FLOW_COLUMNS}
        rows={rows}
        now={now}
        sort={sort}
        onSort={onSort}
        idOf={flowId}
        endingOf={flowEnding}
        empty={
          filter && flows.size > 0
            ? "No flow matches the filter."
            : "No flows yet. Connections the remote makes to the advertised prefixes appear here."
        }
      />
    </section>
  );
}
