import assert from "node:assert/strict";
import { test } from "node:test";
import { testFlowRow } from "../../shared/test-flow-row.js";
import { FLOW_COLUMNS } from "./columns.js";
import { destinationTooltip, shownDestination } from "./flow-destination.js";
import { flowTableFrom, type FlowEntry } from "./table-model.js";
import { queryRows } from "./table-query.js";

test("a named flow reads name:port, the address in its tooltip; an unnamed one reads its address", () => {
  const cases = [
    [{ destination: "198.19.1.10:5432", name: "vault.corp.test" }, "vault.corp.test:5432"],
    [{ destination: "[2001:db8:19:1::10]:443", name: "host.corp.test" }, "host.corp.test:443"],
    [{ destination: "198.19.1.10", name: "host.corp.test" }, "host.corp.test"],
    [{ destination: "2001:db8:19:1::10", name: "host.corp.test" }, "host.corp.test"],
    [{ destination: "198.19.1.10:80", name: null }, "198.19.1.10:80"],
  ] as const;
  for (const [row, shown] of cases) assert.equal(shownDestination(row), shown, row.destination);
  assert.equal(
    destinationTooltip({ destination: "198.19.1.10:5432", name: "vault.corp.test" }),
    "198.19.1.10:5432 (vault.corp.test)",
  );
  assert.equal(destinationTooltip({ destination: "198.19.1.10:80", name: null }), "198.19.1.10:80");
});

test("the destination column shows the name, and the filter finds a flow by its name or its address", () => {
  const rows = [
    testFlowRow(1, { destination: "198.19.1.10:80", name: "vault.corp.test" }),
    testFlowRow(2, { destination: "198.19.1.10:80", name: "host.corp.test" }),
    testFlowRow(3, { destination: "198.19.1.11:80", name: null }),
  ];
  const table = flowTableFrom(rows, 0);
  const column = FLOW_COLUMNS.find((candidate) => candidate.id === "destination");
  assert.ok(column?.tooltip);
  const first = table.get(1)!;
  assert.equal(column.text(first, 0), "vault.corp.test:80");
  assert.equal(column.tooltip(first), "198.19.1.10:80 (vault.corp.test)");
  const found = (filter: string): number[] =>
    queryRows(table.values(), {
      columns: FLOW_COLUMNS,
      sort: { column: "destination", direction: "asc" },
      filter,
      searchText: (entry: FlowEntry) => entry.search,
      id: (entry: FlowEntry) => entry.row.id,
    }).map((entry) => entry.row.id);
  assert.deepEqual(found("VAULT"), [1]);
  assert.deepEqual(found("198.19.1.10"), [2, 1], "by address too, sorted by what the column shows");
  assert.deepEqual(found(""), [3, 2, 1]);
});
