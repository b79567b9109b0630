/** How the user is looking at each table (filter text, sort): kept while switching tabs. */
import { create } from "zustand";
import { DEFAULT_DNS_SORT, DEFAULT_FLOW_SORT } from "./columns.js";
import type { SortSpec } from "./table-query.js";

export type TableKind = "flow" | "dns";

export interface TableView {
  filter: string;
  sort: SortSpec;
}

export const useTableViewStore = create<Record<TableKind, TableView>>(() => ({
  flow: { filter: "", sort: DEFAULT_FLOW_SORT },
  dns: { filter: "", sort: DEFAULT_DNS_SORT },
}));

/** Changes one table's view from its current one; the other table's view stays. */
export function changeTableView(kind: TableKind, change: (view: TableView) => Partial<TableView>): void {
  useTableViewStore.setState((views) => ({ [kind]: { ...views[kind], ...change(views[kind]) } }));
}
