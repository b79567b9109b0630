// The bench's garbage-collection counts on real processes: the probe preloaded through
// NODE_OPTIONS as the bench starts Backhaul's CLI, what it writes, and how the per-process table
// shows a process it counted, a Node process it did not reach, and one that is not Node.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { formatCostTable } from "./cost-report.js";
import { gcProbeEnv, readGcCounts, type GcSample } from "./gc-count.js";
import { bulkCostByProcess, type PeerMeasurement } from "./measure.js";
import type { ResultRow } from "./report.js";

const dir = mkdtempSync(join(tmpdir(), "backhaul-gc-probe-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Per line on stdin, 20,000 ArrayBuffers of 64 KiB, few kept (what a relay's buffers do); "done". */
const ALLOCATOR = `
  let kept = [];
  process.stdin.on("data", () => {
    for (let i = 0; i < 20000; i++) {
      kept.push(new ArrayBuffer(65536));
      if (kept.length > 16) kept = [];
    }
    process.stdout.write("done\\n");
  });`;

/** A script file (the table names a Node process by its script) of `source`, in `dir`. */
function script(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

/** `node [nodeArgs] file` with the probe preloaded as the bench does it (env NAME=VALUE ...). */
function node(file: string, probeDir: string | undefined, nodeArgs: string[] = []) {
  const env = probeDir ? gcProbeEnv(probeDir) : [];
  return spawn("env", [...env, process.execPath, ...nodeArgs, file], { stdio: ["pipe", "pipe", "inherit"] });
}

async function exited(child: ReturnType<typeof spawn>): Promise<void> {
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0, "the child ran to its end");
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every 50 ms; fails after 15 s (a loaded machine is slow, not wrong). */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await sleep(50);
  }
}

describe("GC probe", () => {
  it("counts minor collections of a process that churns ArrayBuffers, and writes whole files", async () => {
    const out = mkdtempSync(join(dir, "minor-"));
    const child = node(
      script(
        "churn.cjs",
        `${ALLOCATOR}\nprocess.stdin.emit("data"); setTimeout(() => process.exit(0), 300);`,
      ),
      out,
    );
    child.stdin?.end();
    await exited(child);
    const counts = readGcCounts(out).get(child.pid ?? 0);
    assert.ok(counts, `the child's PID.json: ${readdirSync(out).join(", ")}`);
    assert.equal(counts.role, "churn.cjs");
    assert.ok(counts.minor > 0, `minor collections counted: ${JSON.stringify(counts)}`);
    assert.ok(counts.minorMs > 0, "and their time");
    assert.deepEqual(readdirSync(out), [`${child.pid}.json`], "renamed into place: no temp file left");
  });

  it("counts each global.gc() as a major collection", async () => {
    const out = mkdtempSync(join(dir, "major-"));
    const child = node(script("forced.cjs", "for (let i = 0; i < 7; i++) global.gc();"), out, [
      "--expose-gc",
    ]);
    child.stdin?.end();
    await exited(child);
    const counts = readGcCounts(out).get(child.pid ?? 0);
    assert.ok(counts, "the child wrote its counts at exit");
    assert.ok(counts.major >= 7, `7 forced collections: ${JSON.stringify(counts)}`);
    assert.ok(counts.majorMs > 0, "and their time");
  });

  it("shows counted collections per GB, and 'not counted' for a Node process without the probe", async () => {
    const out = mkdtempSync(join(dir, "table-"));
    const probed = node(script("probed.cjs", ALLOCATOR), out);
    const plain = node(script("plain.cjs", ALLOCATOR), undefined);
    try {
      await until("the probed child's first file", () => readGcCounts(out).has(probed.pid ?? 0));
      const before = readGcCounts(out);
      for (const child of [probed, plain]) {
        child.stdin?.write("go\n");
        await once(child.stdout ?? child, "data");
      }
      // The probe writes at most every 200 ms: wait for the counts to move, then for one more write.
      const minor = (sample: GcSample) => sample.get(probed.pid ?? 0)?.minor ?? 0;
      await until("the probed child's minor collections", () => minor(readGcCounts(out)) > minor(before));
      await sleep(400);
      const afterwards = readGcCounts(out);
      assert.ok(!afterwards.has(plain.pid ?? 0), "no probe, no file");
      const cpu = new Map([
        [probed.pid ?? 0, 0.5],
        [plain.pid ?? 0, 0.5],
      ]);
      const processes = bulkCostByProcess("L", cpu, before, afterwards, 2e9);
      const counted = processes.find((p) => p.pid === probed.pid)?.gc;
      assert.ok(typeof counted === "object", `the probed child's collections: ${JSON.stringify(counted)}`);
      assert.ok(counted.minorPerGB > 0, "minor collections per GB");
      assert.equal(processes.find((p) => p.pid === plain.pid)?.gc, "not counted");

      const lines = formatCostTable([
        { name: "backhaul", peer: { ...bare(), processes, localCpuSPerGB: 0.5 } },
      ]);
      assert.match(lines[0] ?? "", /^Per process, during iperf3/, "the table shows without round trips");
      const line = (name: string) => lines.find((l) => l.includes(`node ${name}`)) ?? "";
      assert.match(line("plain.cjs"), /\s0\.25\s+not counted\s+not counted\s+not counted\s*$/);
      assert.match(line("probed.cjs"), /\s0\.25\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\s*$/);
      assert.doesNotMatch(line("plain.cjs"), /\b0\.0\b/, "no zeros for what was not counted");
    } finally {
      probed.kill();
      plain.kill();
    }
  });
});

function bare(): PeerMeasurement {
  return {
    upMbps: 1,
    downMbps: 1,
    rrMedianUs: 1,
    rrP99Us: 1,
    bytesMoved: 1e9,
    http: { count: 1, totalMs: 1, perRequestMs: 1, medianMs: 1, p99Ms: 1 },
    dns: { server: "x", count: 1, medianUs: 1, p90Us: 1 },
  };
}

describe("the per-process table's GC columns", () => {
  const withGc: ResultRow = {
    name: "backhaul",
    variant: "heap",
    peer: {
      ...bare(),
      remoteCpuSPerGB: 1.5,
      localCpuSPerGB: 3,
      processes: [
        { side: "R", pid: 10, process: "agent", cpuSPerGB: 1.5, gc: "not counted" },
        {
          side: "L",
          pid: 20,
          process: "main (cli.mjs)",
          cpuSPerGB: 2,
          gc: { majorPerGB: 12, minorPerGB: 30, msPerGB: 250 },
        },
        {
          side: "L",
          pid: 21,
          process: "helper",
          cpuSPerGB: 1,
          gc: { majorPerGB: 0.5, minorPerGB: 60, msPerGB: 40 },
        },
      ],
      roundTripCost: {
        roundTrips: 100,
        processes: [
          { side: "R", pid: 10, process: "agent", switchesPerRt: 2, syscallsPerRt: 6 },
          { side: "L", pid: 20, process: "main (cli.mjs)", switchesPerRt: 1, syscallsPerRt: 4 },
          { side: "L", pid: 21, process: "helper", switchesPerRt: 1, syscallsPerRt: 5 },
        ],
      },
    },
  };
  const withoutGc: ResultRow = {
    name: "ssh -w",
    peer: {
      ...bare(),
      localCpuSPerGB: 0.7,
      processes: [{ side: "L", pid: 30, process: "ssh", cpuSPerGB: 0.7 }],
    },
  };

  it("puts major, minor and ms per GB beside CPU s/GB, and sums each side", () => {
    const lines = formatCostTable([withGc, withoutGc]);
    const find = (pattern: RegExp) => lines.find((l) => pattern.test(l)) ?? "";
    assert.match(lines[0] ?? "", /^Per 1-byte round trip, per process \(100 round trips/);
    assert.match(lines[1] ?? "", /CPU s\/GB\s+major GC\/GB\s+minor GC\/GB\s+GC ms\/GB/);
    assert.match(find(/\bmain \(cli\.mjs\)/), /\s4\.0\s+1\.0\s+2\.00\s+12\.0\s+30\.0\s+250\.0\s*$/);
    assert.match(find(/^backhaul heap\s+L\s+all\b/), /\s9\.0\s+2\.0\s+3\.00\s+12\.5\s+90\.0\s+290\.0\s*$/);
    assert.match(find(/^backhaul heap\s+R\s+all\b/), /\s1\.50\s+not counted\s+not counted\s+not counted\s*$/);
    assert.ok(
      lines.some((l) => l.startsWith("agent: not counted")),
      "the notes say why",
    );
  });

  it("leaves a process that is not Node without GC figures, and shows a row without round trips", () => {
    const lines = formatCostTable([withoutGc]);
    assert.match(lines[0] ?? "", /^Per process, during iperf3 \(round trips not counted/);
    assert.match(
      lines.find((l) => /^ssh -w\s+L\s+ssh\b/.test(l)) ?? "",
      /^ssh -w\s+L\s+ssh\s+0\.70\s+—\s+—\s+—$/,
    );
    assert.doesNotMatch(lines[1] ?? "", /syscalls|switches|calls per RT/, "no columns of dashes only");
    assert.ok(!lines.some((l) => l.startsWith("syscalls:")), "no legend for what was not counted");
  });
});
