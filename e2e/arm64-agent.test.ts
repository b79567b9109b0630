/**
 * Issue #12, arm64 remotes, under emulation: the linux-arm64 Node.js runtime the build brings and
 * the cross-built arm64 addon, run by qemu-user (Debian's qemu-user, with the arm64 C libraries of
 * crossbuild-essential-arm64 as its -L root). The agent runs the full path in namespace R: its TUN
 * device through the arm64 addon, routes, DNS; curl from R reaches S; the disconnect restores R.
 * The session (e2e/session/driver.ts) runs in L with the exit in process, as session.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { ZONE } from "./dns/zone.js";
import { AGENT, snapshotRemote } from "./fullpath/topology.js";
import { findOnPath, netnsSkipReason } from "./netns/index.js";
import { startSessionDriver } from "./session/start.js";

const ROOT = new URL("..", import.meta.url).pathname;
const AGENT_DIR = join(ROOT, "dist/agent");
const ARM64_ADDON = join(AGENT_DIR, "arm64/backhaul_native.node");
const ARM64_RUNTIME = join(AGENT_DIR, "node-linux-arm64.gz");
const SYSROOT = "/usr/aarch64-linux-gnu";

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "dnsmasq"] }) ??
  (findOnPath("qemu-aarch64") ? undefined : "qemu-aarch64 is not installed (Debian package qemu-user)") ??
  (existsSync(join(SYSROOT, "lib/ld-linux-aarch64.so.1"))
    ? undefined
    : `${SYSROOT} has no arm64 C library (Debian package crossbuild-essential-arm64)`) ??
  (existsSync(AGENT) ? undefined : "dist/ is not built: run `npm run build` first") ??
  (existsSync(ARM64_ADDON)
    ? undefined
    : "no arm64 addon in dist/agent: node scripts/build-native.mjs --arch=arm64 --out=.cache/native/linux-arm64/backhaul_native.node, then npm run build") ??
  (existsSync(ARM64_RUNTIME)
    ? undefined
    : "no arm64 Node.js runtime in dist/agent (the build could not fetch it)");

test(
  "arm64 under emulation: the runtime and the addon load, and the agent runs the full path",
  { skip, timeout: 240_000 },
  async (t) => {
    // The agent loads its addon from beside itself: an arm64 agent directory, as the remote gets it.
    const dir = mkdtempSync(join(tmpdir(), "backhaul-arm64-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(AGENT, join(dir, "backhaul-agent.cjs"));
    copyFileSync(ARM64_ADDON, join(dir, "backhaul_native.node"));
    const node = join(dir, "node");
    writeFileSync(node, gunzipSync(readFileSync(ARM64_RUNTIME)), { mode: 0o755 });
    const runner = ["qemu-aarch64", "-L", SYSROOT, node];

    const probe = spawnSync(
      runner[0] ?? "",
      [
        ...runner.slice(1),
        "-e",
        `const m = require(${JSON.stringify(join(dir, "backhaul_native.node"))}); console.log(process.arch, Object.keys(m).sort().join(","))`,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(probe.status, 0, probe.stderr);
    // The same exports as this machine's build of the same source: nothing missing on arm64.
    const x64 = Object.keys(
      createRequire(import.meta.url)(join(AGENT_DIR, "backhaul_native.node")) as object,
    );
    assert.ok(x64.includes("TunDevice"), `the x64 addon exports ${x64.join(",")}`);
    assert.equal(probe.stdout.trim(), `arm64 ${x64.sort().join(",")}`);

    const { path, before, driver, states, logs } = await startSessionDriver(
      t,
      join(dir, "backhaul-agent.cjs"),
      // `=`: a value like -L must not read as an option.
      runner.map((part) => `--runner=${part}`),
    );
    const deadline = Date.now() + 90_000;
    while (!states.some((s) => s.state === "connected")) {
      assert.ok(
        Date.now() < deadline,
        `not connected: ${states.map((s) => s.state).join(", ")}\n${logs.join("\n")}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const page = await path.remote.runChecked("curl", ["-sS", "-m", "20", `http://www.${ZONE}/`], {
      timeoutMs: 30_000,
    });
    assert.equal(page.stdout, "hello from S\n");

    await driver.request("disconnect", null, 30_000);
    const restored = Date.now() + 20_000;
    let after = await snapshotRemote(path);
    while (JSON.stringify(after) !== JSON.stringify(before) && Date.now() < restored) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await snapshotRemote(path);
    }
    assert.deepEqual(after, before, logs.join("\n"));
  },
);
