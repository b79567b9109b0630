import assert from "node:assert/strict";
import { test } from "node:test";
import { DNS_COLUMNS, FLOW_COLUMNS } from "./columns.js";
import { nextSort, queryRows, type Column } from "./table-query.js";

interface Item {
  id: number;
  name: string;
  size: number;
}

const COLUMNS: Column<Item>[] = [
  {
    id: "name",
    title: "Name",
    width: 100,
    grow: 1,
    text: (i) => i.name,
    sortValue: (i) => i.name,
    firstDirection: "asc",
  },
  {
    id: "size",
    title: "Size",
    width: 80,
    text: (i) => String(i.size),
    sortValue: (i) => i.size,
    firstDirection: "desc",
  },
];

const ITEMS: Item[] = [
  { id: 1, name: "10.0.0.10:443 tcp", size: 5 },
  { id: 2, name: "10.0.0.9:443 udp", size: 50 },
  { id: 3, name: "Alpha.corp.test", size: 5 },
  { id: 4, name: "beta.corp.test", size: 500 },
];

const query = (sort: { column: string; direction: "asc" | "desc" }, filter = "") =>
  queryRows(ITEMS, {
    columns: COLUMNS,
    sort,
    filter,
    searchText: (i) => i.name.toLowerCase(),
    id: (i) => i.id,
  }).map((i) => i.id);

test("text sorts naturally (9 before 10) and case-insensitively", () => {
  assert.deepEqual(query({ column: "name", direction: "asc" }), [2, 1, 3, 4]);
  assert.deepEqual(query({ column: "name", direction: "desc" }), [4, 3, 1, 2]);
});

test("numbers sort by value; ties keep id order in both directions", () => {
  assert.deepEqual(query({ column: "size", direction: "desc" }), [4, 2, 1, 3]);
  assert.deepEqual(query({ column: "size", direction: "asc" }), [1, 3, 2, 4]);
});

test("the filter keeps rows holding every word, in any case", () => {
  assert.deepEqual(query({ column: "name", direction: "asc" }, "CORP"), [3, 4]);
  assert.deepEqual(query({ column: "name", direction: "asc" }, " 443   tcp "), [1]);
  assert.deepEqual(query({ column: "name", direction: "asc" }, "nothing"), []);
});

test("a click on a header flips its direction, or starts another column at its first direction", () => {
  const size = COLUMNS[1];
  const name = COLUMNS[0];
  assert.ok(size && name);
  assert.deepEqual(nextSort({ column: "name", direction: "asc" }, size), {
    column: "size",
    direction: "desc",
  });
  assert.deepEqual(nextSort({ column: "size", direction: "desc" }, size), {
    column: "size",
    direction: "asc",
  });
  assert.deepEqual(nextSort({ column: "size", direction: "asc" }, name), {
    column: "name",
    direction: "asc",
  });
});

test("every table column has a unique id and a sort value independent of the clock", () => {
  const tables: { id: string; sortValue: (entry: never) => unknown }[][] = [
    [...FLOW_COLUMNS],
    [...DNS_COLUMNS],
  ];
  for (const columns of tables) {
    const ids = columns.map((column) => column.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const column of columns)
      assert.equal(column.sortValue.length, 1, `${column.id} sorts by the entry alone`);
  }
});

test("the DNS table's resolver cell says in its tooltip why that resolver answered", () => {
  const resolver = DNS_COLUMNS.find((column) => column.id === "resolver");
  const row = {
    id: 1,
    name: "_ldap._tcp.corp.example",
    type: "SRV",
    answers: [],
    ttl: 60,
    rcode: "NOERROR",
    resolver: "10.0.0.1:53 udp",
    detail: "corp.example: scutil resolver #2 (utun4)",
    latencyMs: 3,
    at: 0,
    transport: "udp" as const,
  };
  const entry = { row, removedAt: null, search: "" };
  assert.equal(resolver?.text(entry, 0), "10.0.0.1:53 udp");
  assert.equal(resolver?.tooltip?.(entry), "10.0.0.1:53 udp: corp.example: scutil resolver #2 (utun4)");
  assert.equal(resolver?.tooltip?.({ ...entry, row: { ...row, detail: null } }), "10.0.0.1:53 udp");
});
