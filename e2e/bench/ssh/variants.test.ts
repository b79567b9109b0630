// npm run bench's --variant and --rounds: the flags, the order of each round, and how rounds fold
// into the table's rows.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GcPerGB } from "./gc-count.js";
import type { PeerMeasurement, ProcessBulkCost } from "./measure.js";
import { parseOptions } from "./options.js";
import type { ResultRow } from "./report.js";
import { computeVariantRatios, foldRounds, roundPlan } from "./variants.js";

const OUT = "/tmp/bench.json";

function peer(upMbps: number, rrMedianUs: number): PeerMeasurement {
  return {
    upMbps,
    downMbps: upMbps,
    rrMedianUs,
    rrP99Us: rrMedianUs,
    bytesMoved: 1,
    http: { count: 1, totalMs: rrMedianUs, perRequestMs: 1, medianMs: 1, p99Ms: 1 },
    dns: { server: "s", count: 1, medianUs: 1, p90Us: 1 },
    remoteCpuSPerGB: 1,
    localCpuSPerGB: 1,
  };
}

describe("npm run bench --variant", () => {
  it("without --variant measures dist/cli.mjs once, as one plain backhaul row", () => {
    const options = parseOptions([], OUT);
    assert.deepEqual(options.variants, []);
    assert.equal(options.rounds, 1);
    assert.deepEqual(roundPlan(options, 0), [
      { name: "direct" },
      { name: "backhaul" },
      { name: "proxy" },
      { name: "sshuttle" },
      { name: "ssh -w" },
      { name: "raw" },
    ]);
  });

  it("takes NAME=PATH variants, refuses a name given twice and variants without backhaul", () => {
    const options = parseOptions(["--variant", "a=/x/cli.mjs", "--variant", "b=/y/cli.mjs"], OUT);
    assert.deepEqual(options.variants, [
      { name: "a", cli: "/x/cli.mjs" },
      { name: "b", cli: "/y/cli.mjs" },
    ]);
    assert.throws(() => parseOptions(["--variant", "a=/x", "--variant", "a=/y"], OUT), /given twice/);
    assert.throws(() => parseOptions(["--variant", "/x/cli.mjs"], OUT), /NAME=PATH/);
    assert.throws(() => parseOptions(["--variant", "a=/x", "--path", "direct"], OUT), /needs backhaul/);
    assert.throws(() => parseOptions(["--rounds", "0"], OUT), /--rounds must be an integer/);
  });

  it("rotates the variants' order from round to round, the peers staying in place", () => {
    const options = parseOptions(
      ["--path", "direct,backhaul,raw", "--variant", "a=/a", "--variant", "b=/b", "--variant", "c=/c"],
      OUT,
    );
    const order = (round: number): string[] =>
      roundPlan(options, round).map((row) => (row.variant ? row.variant.name : row.name));
    assert.deepEqual(order(0), ["direct", "a", "b", "c", "raw"]);
    assert.deepEqual(order(1), ["direct", "b", "c", "a", "raw"]);
    assert.deepEqual(order(2), ["direct", "c", "a", "b", "raw"]);
    assert.deepEqual(order(3), order(0));
  });

  it("folds rounds into one row per path and build (medians), failed when any round failed", () => {
    const options = parseOptions(
      ["--path", "direct,backhaul", "--variant", "a=/a", "--variant", "b=/b"],
      OUT,
    );
    const round = (up: number, failB = false): ResultRow[] => [
      { name: "direct", peer: peer(10 * up, 10) },
      { name: "backhaul", variant: "a", peer: peer(up, 100) },
      failB
        ? { name: "backhaul", variant: "b", error: "setup failed" }
        : { name: "backhaul", variant: "b", peer: peer(2 * up, 50) },
    ];
    const rows = foldRounds(options, [round(1), round(3), round(2, true)]);
    assert.deepEqual(
      rows.map((row) => [row.name, row.variant, row.peer?.upMbps, row.error]),
      [
        ["direct", undefined, 20, undefined],
        ["backhaul", "a", 2, undefined],
        ["backhaul", "b", 4, "round 3: setup failed"],
      ],
    );
    const [ratio] = computeVariantRatios(rows);
    assert.equal(ratio?.variant, "b");
    assert.equal(ratio?.against, "a");
    assert.equal(ratio?.up, 2);
    assert.equal(ratio?.rr, 0.5);
  });

  it("keeps the first round's per-round-trip counts and connection cost through the fold", () => {
    const options = parseOptions(["--path", "backhaul", "--rounds", "2"], OUT);
    const cost = (switchesPerRt: number) => ({
      roundTrips: 1500,
      processes: [{ side: "R" as const, pid: 1, process: "agent", switchesPerRt }],
    });
    const rows = foldRounds(options, [
      [
        {
          name: "backhaul",
          peer: { ...peer(1, 1), roundTripCost: cost(2), cpuByPid: { 1: 0.5 } },
          connection: { connectMs: 900 },
        },
      ],
      [{ name: "backhaul", peer: { ...peer(1, 1), roundTripCost: cost(3) }, connection: { connectMs: 400 } }],
    ]);
    assert.equal(rows[0]?.peer?.roundTripCost?.processes[0]?.switchesPerRt, 2);
    assert.equal(rows[0]?.connection?.connectMs, 900);
    assert.equal(rows[0]?.peer?.cpuByPid?.[1], 0.5, "each process's CPU per GB, for the cost table");
  });

  it("folds each process's CPU and collections per GB over the rounds by what it is, PIDs of the first", () => {
    const options = parseOptions(["--path", "backhaul", "--rounds", "3"], OUT);
    const processes = (pid: number, major: number, agentCounted = false): ProcessBulkCost[] => [
      { side: "R", pid, process: "agent", cpuSPerGB: 1, gc: agentCounted ? gc(1) : "not counted" },
      { side: "L", pid: pid + 1, process: "main (cli.mjs)", cpuSPerGB: major / 10, gc: gc(major) },
      { side: "L", pid: pid + 2, process: "sshd: x", cpuSPerGB: 0.1 },
      { side: "L", pid: pid + 3, process: "sshd: x", cpuSPerGB: 0.3 },
    ];
    const rows = foldRounds(options, [
      [{ name: "backhaul", peer: { ...peer(1, 1), processes: processes(100, 80) } }],
      // Another order of the processes in a later round: matched by name, not place.
      [{ name: "backhaul", peer: { ...peer(1, 1), processes: processes(200, 10, true).reverse() } }],
      [{ name: "backhaul", peer: { ...peer(1, 1), processes: processes(300, 20, true) } }],
    ]);
    const folded = rows[0]?.peer?.processes ?? [];
    assert.deepEqual(
      folded.map((p) => [p.pid, p.process]),
      [
        [100, "agent"],
        [101, "main (cli.mjs)"],
        [102, "sshd: x"],
        [103, "sshd: x"],
      ],
    );
    assert.deepEqual(folded[1]?.gc, gc(20), "the median of 80, 10 and 20");
    assert.equal(folded[1]?.cpuSPerGB, 2);
    assert.equal(folded[0]?.gc, "not counted", "not counted in one round: not a figure");
    assert.equal(folded[3]?.cpuSPerGB, 0.3, "the second process of a name with the second of each round");
    assert.equal(folded[2]?.gc, undefined, "no collections for what is not Node");
  });
});

function gc(major: number): GcPerGB {
  return { majorPerGB: major, minorPerGB: 2 * major, msPerGB: 3 * major };
}
