/** How the user is looking at each table (filter text, sort): kept while switching tabs. */
import { create } from "zustand";
import { DEFAULT_DNS_SORT, DEFAULT_FLOW_SORT } from "./columns.js";
import type { SortSpec } from "./table-query.js";

interface TableViewState {
  flowFilter: string;
  flowSort: SortSpec;
  dnsFilter: string;
  dnsSort: SortSpec;
}

export const useTableViewStore = create<TableViewState>(() => ({
  flowFilter: "",
  flowSort: DEFAULT_FLOW_SORT,
  dnsFilter: "",
  dnsSort: DEFAULT_DNS_SORT,
}));
