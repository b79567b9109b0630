/**
 * The real local helper (dist/helper-local.mjs, started by HelperSupervisor as main starts it)
 * against a hostile agent. The test plays main's part (a link connection and its control
 * connection, as helper-exit.ts opens them) and the agent's part of the link protocol (a Link in
 * the entrance role on the link connection). Nothing leaves the helper's Unix socket, so no
 * namespace is needed; the test of the elevated layout needs root.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { openHelperLink } from "../src/main/broker/helper/helper-client.js";
import { TEST_EXIT_OPTIONS, testAgentLink } from "../src/main/broker/helper/testing.js";
import { forwardLines } from "../src/helper/local/line-socket.js";
import { assertHandedToUser, helloAs, userControlDir } from "../src/helper/local/test-elevated-socket.js";
import { until } from "../src/shared/test-until.js";
import { BUILT_HELPER, helperNotBuilt, withSupervisedHelper } from "./local-helper/built.js";
import { watchHelperControl } from "./local-helper/control.js";
import { whenMet } from "./netns/preconditions.js";

const FLOOD_FRAMES = 320;
const KEYS_PER_FRAME = 256; // the most a STATS frame may carry
/**
 * The helper's peak resident memory over the whole test. Measured here: 64 MiB; 963 MiB when the
 * progress map took every agent.* key of the flood (82,000) and sent the whole map on each change.
 */
const PEAK_RSS_BOUND_MIB = 160;
/** A progress line holds the two keys main uses: a few dozen bytes; far below one flood frame. */
const PROGRESS_LINE_BOUND = 512;

/** A /proc/PID/status field in MiB (VmRSS now, VmHWM the peak). */
function memoryMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s*(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(match, `${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

test(
  "an agent's STATS flood leaves the helper's memory and main's progress bounded; the readiness probe logs nothing",
  { timeout: 120_000 },
  withSupervisedHelper(async ({ endpoint, pid, logs }, t) => {
    const link = await openHelperLink(endpoint, TEST_EXIT_OPTIONS);
    const agent = testAgentLink(link.socket);
    link.socket.resume();
    const progress: Record<string, number>[] = [];
    let longestProgressLine = 0;
    await watchHelperControl(endpoint, link.linkId, (event, lineLength) => {
      if (event.type !== "progress") return;
      progress.push(event.extra);
      longestProgressLine = Math.max(longestProgressLine, lineLength);
    });
    await agent.ready;

    for (let frame = 0; frame < FLOOD_FRAMES; frame++) {
      const extra: Record<string, number> = {};
      for (let key = 0; key < KEYS_PER_FRAME; key++) extra[`agent.flood${frame}.${key}`] = key;
      // A full link queue drops the frame: wait and send it again, so that every one arrives.
      while (!agent.sendStats(extra)) {
        await Promise.race([
          new Promise<void>((resolve) => agent.once("drain", () => resolve())),
          new Promise((resolve) => setTimeout(resolve, 20)),
        ]);
      }
    }
    assert.ok(agent.sendStats({ "agent.routes": 1, "agent.ready": 1 }));
    // The link delivers in order: once this arrives, the helper has handled the whole flood.
    await until(() => progress.at(-1)?.["agent.ready"] === 1, 90_000, "the final progress");

    const peak = memoryMiB(pid, "VmHWM");
    t.diagnostic(
      `helper peak RSS ${peak.toFixed(0)} MiB (now ${memoryMiB(pid, "VmRSS").toFixed(0)} MiB), ` +
        `${progress.length} progress lines, the longest ${longestProgressLine} bytes`,
    );
    assert.ok(
      peak < PEAK_RSS_BOUND_MIB,
      `the helper's peak RSS ${peak.toFixed(0)} MiB < ${PEAK_RSS_BOUND_MIB} MiB`,
    );
    assert.deepEqual(progress.at(-1), { "agent.routes": 1, "agent.ready": 1 });
    assert.ok(
      longestProgressLine <= PROGRESS_LINE_BOUND,
      `progress lines stay small (longest ${longestProgressLine} bytes)`,
    );
    assert.ok(
      !progress.some((extra) => Object.keys(extra).some((key) => key.startsWith("agent.flood"))),
      "no flood key reaches main",
    );

    agent.close("test done");
    await agent.closed;
    // The supervisor's readiness probe connected and hung up without a byte: that is no refusal.
    const refused = logs.filter((line) => /refused a connection/.test(line));
    assert.deepEqual(refused, [], "the helper logged no refusal");
  }),
);

test(
  "run as root for another user, the helper listens in a root-owned directory only that user can reach",
  { timeout: 60_000 },
  whenMet(
    () =>
      helperNotBuilt() ??
      (process.getuid?.() === 0 ? undefined : "needs root: it starts the helper as root for another user"),
    async () => {
      const user = 65534;
      const work = mkdtempSync(join(tmpdir(), "bh-helper-root-"));
      chmodSync(work, 0o755); // the user passes through it, as through /run/user
      const token = "f".repeat(64);
      const control = userControlDir(work, user, token);
      const helper = spawn(
        process.execPath,
        [BUILT_HELPER, "--control-dir", control, "--owner-uid", String(user)],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      const logs: string[] = [];
      forwardLines(helper.stderr, (line) => logs.push(line));
      const exited = new Promise<number | null>((resolve) => helper.once("exit", (code) => resolve(code)));
      const link = join(control, "helper.sock");
      try {
        await until(() => logs.some((line) => /listening on/.test(line)), 10_000, "the helper to listen");
        // As the user, through the link main knows: the token is checked, and then obeyed.
        const privateDir = dirname(await assertHandedToUser(link, user, 1));
        assert.match(privateDir, /^\/(run|tmp)\/backhaul-helper-/);
        await helloAs(user, link, token); // shutdown
        assert.equal(await exited, 0);
        assert.ok(!existsSync(privateDir), "root's directory is removed");
        assert.ok(!lstatSafe(link), "the link is removed");
        assert.deepEqual(
          logs.filter((line) => /refused a connection/.test(line)),
          ["backhaul helper: refused a connection: wrong token"],
        );
      } finally {
        if (helper.exitCode === null && helper.signalCode === null) helper.kill("SIGKILL");
        await exited;
        rmSync(work, { recursive: true, force: true });
      }
    },
  ),
);

function lstatSafe(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
