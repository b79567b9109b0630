/**
 * The broker's Session (issue #5) over a pipe transport: connect steps, keepalive noticing a
 * dead link, reconnect with backoff once the network is back, and a clean disconnect that
 * leaves the remote as it was. SSH itself is tested in e2e/ssh.test.ts.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { ZONE } from "./dns/zone.js";
import { AGENT, snapshotRemote } from "./fullpath/topology.js";
import { netnsSkipReason } from "./netns/index.js";
import { startSessionDriver } from "./session/start.js";

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "dnsmasq"] }) ??
  (existsSync(AGENT) ? undefined : "dist/ is not built: run `npm run build` first");

test(
  "a session connects in steps, survives a dead link, and restores the remote on disconnect",
  { skip, timeout: 180_000 },
  async (t) => {
    const { path, before, driver, states, logs } = await startSessionDriver(t, AGENT);
    const until = async (state: string, timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      const seen = states.length;
      while (!states.slice(seen).some((s) => s.state === state)) {
        if (Date.now() > deadline)
          throw new Error(
            `no "${state}" in ${timeoutMs} ms; states ${JSON.stringify(states)}; agent log:\n${logs.join("\n")}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const send = (command: "cut" | "down" | "up"): Promise<void> => driver.request(command, null);

    await until("connected", 30_000);
    // The session's own steps, each once and in order (a pipe transport has no "ssh" or "upload").
    const steps = states.filter((s) => s.state === "connecting").map((s) => s.step);
    assert.deepEqual(steps, ["start", "agent", "routes", "dns"]);
    const page = await path.remote.runChecked("curl", ["-sS", "-m", "10", `http://www.${ZONE}/`], {
      timeoutMs: 15_000,
    });
    assert.equal(page.stdout, "hello from S\n");

    // The network dies: nothing flows and new connections fail, for a while.
    await send("down");
    await send("cut");
    await until("reconnecting", 20_000);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await send("up");
    await until("connected", 60_000);
    const again = await path.remote.runChecked("curl", ["-sS", "-m", "10", `http://www.${ZONE}/`], {
      timeoutMs: 15_000,
    });
    assert.equal(again.stdout, "hello from S\n", "works again after the reconnect");
    assert.ok(
      states.some((s) => s.state === "reconnecting" && (s.attempt ?? 0) >= 2),
      "backed off at least once",
    );

    await driver.request("disconnect", null, 20_000);
    for (let waited = 0; states.at(-1)?.state !== "disconnected"; waited += 100) {
      assert.ok(waited < 20_000, `not disconnected: ${JSON.stringify(states.at(-1))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The agent restores R as it exits; give it the moment that takes.
    const deadline = Date.now() + 10_000;
    let after = await snapshotRemote(path);
    while (JSON.stringify(after) !== JSON.stringify(before) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await snapshotRemote(path);
    }
    assert.deepEqual(after, before);
  },
);
