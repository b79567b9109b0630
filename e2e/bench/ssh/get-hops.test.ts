// bench:latency --hops: one GET recorded by tcpdump in R and L (fixtures/get-hops-*.txt, a real
// capture from this bench) read back hop by hop.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { formatHops, getHops, parseCapture } from "./get-hops.js";

const fixture = (side: string): string =>
  readFileSync(new URL(`./fixtures/get-hops-${side}.txt`, import.meta.url), "utf8");
const packets = [...parseCapture(fixture("R"), "R"), ...parseCapture(fixture("L"), "L")];
const us = (seconds: number): number => Math.round(seconds * 1e6);

describe("bench:latency --hops: where a GET's time goes", () => {
  it("reads each hop of a recorded GET from the first packet it causes at the next place", () => {
    const hops = getHops(packets, "bh0");
    assert.equal(hops.length, 1);
    const [get] = hops;
    assert.ok(get);
    assert.deepEqual(Object.fromEntries(Object.entries(get).map(([hop, seconds]) => [hop, us(seconds)])), {
      "SYN R": 160,
      "SYN L": 555,
      dial: 12,
      "SYN-ACK L": 367,
      "SYN-ACK R": 217,
      client: 78,
      "request R": 57,
      "request L": 217,
      server: 323,
      "response L": 337,
      "response R": 157,
      total: 2480,
    });
  });

  it("leaves out a GET whose packets are not all captured, and says when none is", () => {
    assert.deepEqual(getHops(parseCapture(fixture("R"), "R"), "bh0"), []);
    assert.deepEqual(getHops(packets, "bh1"), []);
    assert.deepEqual(formatHops("dist", []), ["dist: no complete GET in the capture"]);
  });

  it("sums R's and L's hops in the table", () => {
    const table = formatHops("dist", getHops(packets, "bh0")).join("\n");
    assert.match(table, /SYN L +p50 +555/);
    assert.match(table, /R's four hops 591 µs, L's four 1476 µs/);
  });
});
