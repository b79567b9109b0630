import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DnsRow } from "../../../shared/dns-row.js";
import type { TableDelta } from "../../../shared/flow-row.js";
import { DnsTable, type NewDnsRow } from "./dns-table.js";

function row(name: string): NewDnsRow {
  return {
    name,
    type: "A",
    answers: ["198.18.0.1"],
    ttl: 60,
    rcode: "NOERROR",
    resolver: "198.19.0.53:53 udp",
    detail: null,
    latencyMs: 1.5,
    at: 1_700_000_000_000,
    transport: "udp",
  };
}

describe("DnsTable", () => {
  test("keeps at most maxRows, the oldest removed", () => {
    const table = new DnsTable({ maxRows: 3 });
    for (const name of ["a", "b", "c", "d", "e"]) table.add(row(name));
    assert.deepEqual(
      table.snapshot().map((r) => [r.id, r.name]),
      [
        [3, "c"],
        [4, "d"],
        [5, "e"],
      ],
    );
  });

  test("deltas: new rows as upserts, published rows that went as removals, unseen ones forgotten", () => {
    const table = new DnsTable({ maxRows: 2, publishIntervalMs: 60_000 });
    const deltas: TableDelta<DnsRow>[] = [];
    table.subscribe((delta) => deltas.push(delta));
    table.add(row("a"));
    table.add(row("b"));
    table.publish();
    table.add(row("c"));
    table.add(row("d"));
    table.add(row("e"));
    table.publish();
    table.publish();
    assert.deepEqual(
      deltas.map((delta) => ({ upserts: delta.upserts.map((r) => r.name), removals: delta.removals })),
      [
        { upserts: ["a", "b"], removals: [] },
        { upserts: ["d", "e"], removals: [1, 2] },
      ],
    );
    table.stop();
  });

  test("published at a bounded rate by the timer; copies, not the table's own rows", async () => {
    const table = new DnsTable({ publishIntervalMs: 20 });
    const deltas: TableDelta<DnsRow>[] = [];
    const unsubscribe = table.subscribe((delta) => deltas.push(delta));
    for (let i = 0; i < 100; i++) table.add(row(`n${i}`));
    // When the timer fires depends on the machine's load; what it publishes does not.
    const until = Date.now() + 5_000;
    while (deltas.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(deltas.length, 1, "100 rows added at once are one delta");
    assert.equal(deltas[0]?.upserts.length, 100);
    deltas[0]?.upserts[0]?.answers.push("mutated");
    assert.deepEqual(table.get(1)?.answers, ["198.18.0.1"]);
    unsubscribe();
    table.add(row("quiet"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(deltas.length, 1, "nobody listening: nothing published");
  });
});
