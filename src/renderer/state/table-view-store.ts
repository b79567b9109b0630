/** How the user is looking at each table (filter text, session, sort): kept while switching tabs. */
import { create } from "zustand";
import { DEFAULT_DNS_SORT, DEFAULT_FLOW_SORT } from "./columns.js";
import type { SortSpec } from "./table-query.js";

export type TableKind = "flow" | "dns";

export interface TableView {
  filter: string;
  /** Only this session's rows, by name; "" for every session's. */
  session: string;
  sort: SortSpec;
}

export const useTableViewStore = create<Record<TableKind, TableView>>(() => ({
  flow: { filter: "", session: "", sort: DEFAULT_FLOW_SORT },
  dns: { filter: "", session: "", sort: DEFAULT_DNS_SORT },
}));

/** Changes one table's view from its current one; the other table's view stays. */
export function changeTableView(kind: TableKind, change: (view: TableView) => Partial<TableView>): void {
  useTableViewStore.setState((views) => ({ [kind]: { ...views[kind], ...change(views[kind]) } }));
}
