/** The NAT table: one row per flow the remote opened through this computer. */
import { useMemo } from "react";
import { FLOW_COLUMNS } from "../state/columns.js";
import { flowEnding } from "../state/table-model.js";
import { useTablesStore } from "../state/tables-store.js";
import { TablePanel } from "./TablePanel.js";

export function FlowTable() {
  const flows = useTablesStore((s) => s.flows);
  const now = useTablesStore((s) => s.now);
  const open = useMemo(() => {
    let count = 0;
    for (const entry of flows.values()) if (flowEnding(entry) === null) count++;
    return count;
  }, [flows]);

  return (
    <TablePanel
      kind="flow"
      label="NAT table"
      entries={flows}
      columns={FLOW_COLUMNS}
      now={now}
      placeholder="Filter flows: protocol, address, port, state…"
      summary={`${open.toLocaleString()} open · ${flows.size.toLocaleString()} listed`}
      endingOf={flowEnding}
      empty="No flows yet. Connections the remote makes to the advertised prefixes appear here."
      emptyFiltered="No flow matches the filter."
    />
  );
}
