/** The DNS table: one row per answer this computer's resolver gave the remote. */
import { DNS_COLUMNS } from "../state/columns.js";
import type { DnsEntry } from "../state/table-model.js";
import { useSessionStore } from "../state/session-store.js";
import { useTableViewStore } from "../state/table-view-store.js";
import { useTablesStore } from "../state/tables-store.js";
import { RemoteDnsLine } from "./RemoteDnsLine.js";
import { TablePanel } from "./TablePanel.js";
import { count } from "./TableToolbar.js";

const dnsEnding = (entry: DnsEntry) => (entry.removedAt === null ? null : "removed");

export function DnsTable() {
  const dns = useTablesStore((s) => s.dns);
  // The session the table is filtered to, else the one the window shows.
  const filtered = useTableViewStore((views) => views.dns.session);
  const remoteDns = useSessionStore(
    (s) => (s.sessions.find((view) => filtered && view.target?.label === filtered) ?? s.session).remoteDns,
  );
  return (
    <>
      <RemoteDnsLine status={remoteDns} />
      <TablePanel
        kind="dns"
        label="DNS table"
        entries={dns}
        columns={DNS_COLUMNS}
        now={0}
        placeholder="Filter answers: name, type, address, response…"
        summary={count(dns.size, "answer", "answers")}
        endingOf={dnsEnding}
        empty="No DNS answers yet. Names the remote looks up appear here."
        emptyFiltered="No answer matches the filter."
      />
    </>
  );
}
