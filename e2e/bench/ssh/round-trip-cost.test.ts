// The counting behind the bench's per-process table, on real processes: strace's summary as this
// machine's strace prints it, threads' context switches from /proc, and the table's totals.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { findOnPath, skipSaying } from "../../netns/preconditions.js";
import { formatCostTable } from "./cost-report.js";
import type { ResultRow } from "./report.js";
import { contextSwitches, describeProcess, parseStraceSummary, traceSyscalls } from "./round-trip-cost.js";

/** A child that, per line on stdin, opens and closes /dev/null 400 times, then says "done". */
function busyChild() {
  const script = `
    const fs = require("fs");
    process.stdin.on("data", () => {
      for (let i = 0; i < 400; i++) fs.closeSync(fs.openSync("/dev/null", "r"));
      process.stdout.write("done\\n");
    });`;
  return spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
}

describe("round-trip cost", () => {
  it("counts a process's system calls with strace, every thread", async (t) => {
    if (!findOnPath("strace")) return skipSaying(t, "strace is not installed (Debian package strace)");
    const child = busyChild();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // started and its threads up
      const tracer = await traceSyscalls(child.pid ?? 0);
      child.stdin.write("go\n");
      await once(child.stdout, "data");
      const calls = await tracer.stop();
      assert.ok(calls, "strace printed a summary");
      assert.ok((calls.get("close") ?? 0) >= 400, `close counted: ${calls.get("close")}`);
      assert.ok((calls.get("openat") ?? 0) >= 400, `openat counted: ${calls.get("openat")}`);
    } finally {
      child.kill();
    }
  });

  it("parses strace's summary, with and without an errors column", () => {
    const summary = [
      "% time     seconds  usecs/call     calls    errors syscall",
      "------ ----------- ----------- --------- --------- ------------------",
      " 40.00    0.000040           0      1500           write",
      " 30.00    0.000030           0      1499        12 read",
      "  0.00    0.000000           0         1         1 pkey_alloc",
      "------ ----------- ----------- --------- --------- ------------------",
      "100.00    0.000100           0      3000        13 total",
    ].join("\n");
    assert.deepEqual(
      [...parseStraceSummary(summary)],
      [
        ["write", 1500],
        ["read", 1499],
        ["pkey_alloc", 1],
      ],
    );
  });

  it("reads context switches of every thread, and they grow as the process sleeps and wakes", async () => {
    // Another process, asked to sleep 20 times: this one's test runner threads come and go.
    const script = `
      process.stdin.on("data", async () => {
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        process.stdout.write("done\\n");
      });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // started and its threads up
      const before = contextSwitches(child.pid ?? 0);
      assert.ok(before > 0, "a running process has switched before");
      child.stdin.write("go\n");
      await once(child.stdout, "data");
      const after = contextSwitches(child.pid ?? 0);
      assert.ok(after >= before + 20, `each sleep is at least one voluntary switch: ${before} -> ${after}`);
    } finally {
      child.kill();
    }
    assert.equal(contextSwitches(2 ** 30), 0, "a process that is gone counts nothing");
  });

  it("names the processes a path runs", () => {
    assert.equal(
      describeProcess(["/usr/bin/node", "--max-old-space-size=64", "/x/dist/helper-local.mjs"]),
      "helper",
    );
    assert.equal(describeProcess(["node", "/home/u/.cache/backhaul/agent/0123/agent.mjs"]), "agent");
    assert.equal(
      describeProcess(["/usr/bin/node", "/w/dist/cli.mjs", "connect", "ssh://r"]),
      "main (cli.mjs)",
    );
    assert.equal(describeProcess(["sshd: bhdev@notty"]), "sshd: bhdev@notty");
    assert.equal(describeProcess(["/usr/bin/python3", "/usr/bin/sshuttle", "-r", "x"]), "sshuttle");
    assert.equal(describeProcess(["/usr/bin/ssh", "-w", "0:0", "root@l"]), "ssh");
  });

  it("totals each side, and says when syscalls were not counted", () => {
    const row: ResultRow = {
      name: "backhaul",
      peer: {
        upMbps: 1,
        downMbps: 1,
        rrMedianUs: 1,
        rrP99Us: 1,
        bytesMoved: 1,
        http: { count: 1, totalMs: 1, perRequestMs: 1, medianMs: 1, p99Ms: 1 },
        dns: { server: "x", count: 1, medianUs: 1, p90Us: 1 },
        remoteCpuSPerGB: 3.25,
        cpuByPid: { 1: 2.5 },
        roundTripCost: {
          roundTrips: 1500,
          processes: [
            {
              side: "R",
              pid: 1,
              process: "agent",
              switchesPerRt: 2,
              syscallsPerRt: 6,
              topSyscalls: "write 2.0",
            },
            { side: "R", pid: 2, process: "sshd: bhdev@notty", switchesPerRt: 1.5, syscallsPerRt: 4 },
            { side: "L", pid: 3, process: "helper", switchesPerRt: 1 },
          ],
          syscallsMissing: "strace is not installed (Debian package strace)",
        },
      },
    };
    const lines = formatCostTable([row]);
    const total = (side: string) =>
      lines.find((line) => new RegExp(`^backhaul\\s+${side}\\s+all\\b`).test(line));
    assert.match(
      total("R") ?? "",
      /\s10\.0\s+3\.5\s+3\.25(\s+—){3}\s*$/,
      "R's calls, switches and CPU per GB",
    );
    assert.match(
      lines.find((line) => /\bagent\b/.test(line)) ?? "",
      /\s6\.0\s+2\.0\s+2\.50(\s+—){3}\s+write 2\.0$/,
    );
    assert.match(
      total("L") ?? "",
      /\s—\s+1\.0(\s+—){4}\s*$/,
      "a process without a syscall count leaves the sum unknown",
    );
    assert.ok(lines.some((line) => line.includes("syscalls not counted: strace is not installed")));
  });
});
