/** The DNS table: one row per answer this computer's resolver gave the remote. */
import { useCallback, useMemo } from "react";
import { DNS_COLUMNS } from "../state/columns.js";
import type { DnsEntry } from "../state/table-model.js";
import { nextSort, queryRows, type Column } from "../state/table-query.js";
import { useTableViewStore } from "../state/table-view-store.js";
import { useTablesStore } from "../state/tables-store.js";
import { count, TableToolbar } from "./TableToolbar.js";
import { VirtualTable } from "./VirtualTable.js";

const dnsId = (entry: DnsEntry) => entry.row.id;
const dnsSearch = (entry: DnsEntry) => entry.search;
const dnsEnding = (entry: DnsEntry) => (entry.removedAt === null ? null : "removed");

export function DnsTable() {
  const dns = useTablesStore((s) => s.dns);
  const filter = useTableViewStore((s) => s.dnsFilter);
  const sort = useTableViewStore((s) => s.dnsSort);
  const rows = useMemo(
    () => queryRows(dns.values(), { columns: DNS_COLUMNS, sort, filter, searchText: dnsSearch, id: dnsId }),
    [dns, sort, filter],
  );
  const onSort = useCallback((column: Column<DnsEntry>) => {
    useTableViewStore.setState((s) => ({ dnsSort: nextSort(s.dnsSort, column) }));
  }, []);

  return (
    <section className="table-panel" aria-label="DNS table">
      <TableToolbar
        kind="dns"
        filter={filter}
        placeholder="Filter answers: name, type, address, response…"
        onFilter={(dnsFilter) => useTableViewStore.setState({ dnsFilter })}
        summary={`${count(dns.size, "answer", "answers")}${filter ? ` · ${count(rows.length, "match", "matches")}` : ""}`}
      />
      <VirtualTable
        kind="dns"
        columns={DNS_COLUMNS}
        rows={rows}
        now={0}
        sort={sort}
        onSort={onSort}
        idOf={dnsId}
        endingOf={dnsEnding}
        empty={
          filter && dns.size > 0
            ? "No answer matches the filter."
            : "No DNS answers yet. Names the remote looks up appear here."
        }
      />
    </section>
  );
}
