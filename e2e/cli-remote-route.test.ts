/**
 * Issue #15, this computer reaches the remote's networks: `backhaul connect --remote-route P
 * --remote-dns-domain p.test` in L, to R over real OpenSSH. P is a network behind R only (HTTP on
 * web.p.test, a name in R's /etc/hosts alone). From L, a plain `curl http://web.p.test/` and
 * `ping` reach P through this computer's TUN and the agent's exit. After Ctrl+C (SIGINT to the
 * CLI), and after SIGKILL of the CLI and its helper followed by the next connect and its Ctrl+C,
 * L's routes, links and resolv.conf are byte for byte as before.
 *
 *   P 198.18.70.10 (HTTP) — R 198.18.1.1 (sshd, the agent, its exit) — L 198.18.1.2 (the CLI)
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { connectOverSsh, sshCliSkipReason } from "./cli/command.js";
import { sshdWithRemotePrivateForSuite } from "./reverse/remote-private.js";
import { type ManagedProcess, type NetworkNamespace } from "./netns/index.js";
import { readJsonLines } from "./netns/json-lines.js";
import { assertNetworkRestored, networkSnapshot, type NetworkSnapshot } from "./netns/restored.js";

/** P, behind R: nothing routes there from L but Backhaul. */
const P = {
  network: { v4: "198.18.70.0/24", v6: "2001:db8:70::/64" },
  remote: { v4: "198.18.70.1", v6: "2001:db8:70::1" },
  server: { v4: "198.18.70.10", v6: "2001:db8:70::10" },
  name: "web.p.test",
  domain: "p.test",
  role: "p",
} as const;

const skip = sshCliSkipReason(["ip", "curl", "ping"]);

/** L's routes, links and resolver; link-local lines are the kernel's own, and come late after a veth is up. */
const snapshot = (ns: NetworkNamespace): Promise<NetworkSnapshot> =>
  networkSnapshot(ns, { withoutLinkLocal: true });

/** L is as `before` within 10 s. */
const assertRestored = (ns: NetworkNamespace, before: NetworkSnapshot, log: () => string): Promise<void> =>
  assertNetworkRestored(ns, before, log, { withoutLinkLocal: true, withinMs: 10_000 });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The processes whose parent is `pid` (the CLI's local helper). */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return ppid === pid ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

interface Connected {
  cli: ManagedProcess;
  log: () => string;
}

describe(
  "backhaul connect --remote-route: this computer reaches a network behind the remote",
  { skip, timeout: 300_000 },
  () => {
    // P behind R, and its name in R's hosts file alone; sshd restarts so that its sessions (the
    // agent) see R's hosts file (`ip netns exec` bind-mounts it when a process starts).
    const suite = sshdWithRemotePrivateForSuite("backhaul-remote-route-", P, (suite) =>
      suite.sshd.restartWithNode("own"),
    );

    const connect = async (): Promise<Connected> => {
      const cli = connectOverSsh(suite, suite.sshd.users.dev.name, [
        "--remote-route",
        P.network.v4,
        "--remote-route",
        P.network.v6,
        "--remote-dns-domain",
        P.domain,
        "--json",
      ]);
      const lines: string[] = [];
      let connected = false;
      readJsonLines(cli.child.stdout, (value) => {
        lines.push(JSON.stringify(value));
        if (value.type === "state" && value.state === "connected") connected = true;
      });
      let stderr = "";
      cli.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const log = (): string => `${lines.join("\n")}\n${stderr}`;
      const deadline = Date.now() + 90_000;
      while (!connected) {
        if (Date.now() > deadline) throw new Error(`not connected within 90 s:\n${log()}`);
        await sleep(100);
      }
      // Connected means both ends are in place: this computer's TUN, its routes and resolver too.
      const route = (await suite.local.ip(["route", "get", P.server.v4])).stdout;
      assert.match(route, /dev bhl\d+/, `connected before this computer's TUN was set up:\n${log()}`);
      return { cli, log };
    };

    const assertReaches = async ({ log }: Connected): Promise<void> => {
      const resolv = readFileSync(join("/etc/netns", suite.local.name, "resolv.conf"), "utf8");
      assert.match(resolv, /^nameserver 198\.18\.0\.1$/m, `L's resolver is the helper's stub\n${log()}`);
      const curl = await suite.local.run("curl", ["-sS", "--fail", "-m", "20", `http://${P.name}/`]);
      assert.equal(curl.code, 0, `curl: ${curl.stderr}\n${log()}`);
      assert.equal(curl.stdout, "hello from S\n");
      const ping = await suite.local.run("ping", ["-c", "2", "-W", "5", P.server.v4]);
      assert.equal(ping.code, 0, `ping: ${ping.stdout}${ping.stderr}\n${log()}`);
      const ping6 = await suite.local.run("ping", ["-6", "-c", "1", "-W", "5", P.server.v6]);
      assert.equal(ping6.code, 0, `ping -6: ${ping6.stdout}${ping6.stderr}\n${log()}`);
      const other = await suite.local.run("getent", ["hosts", "host.corp.test"]);
      assert.equal(other.code, 0, `names outside p.test still resolve with L's own servers\n${log()}`);
    };

    /** Ctrl+C ends the session with 0, and L is as `before` again. */
    const disconnectsRestoring = async ({ cli, log }: Connected, before: NetworkSnapshot): Promise<void> => {
      cli.child.kill("SIGINT");
      assert.equal((await cli.waitForExit(20_000)).code, 0, log());
      await assertRestored(suite.local, before, log);
    };

    test("curl by name and ping reach P; Ctrl+C leaves L as it was", async () => {
      const before = await snapshot(suite.local);
      const session = await connect();
      try {
        await assertReaches(session);
        await disconnectsRestoring(session, before);
      } finally {
        await session.cli.stop(15_000);
      }
    });

    test("after SIGKILL of the CLI and its helper, the next connect restores L first; its Ctrl+C too", async () => {
      const before = await snapshot(suite.local);
      const first = await connect();
      await assertReaches(first);
      const cliPid = first.cli.pid ?? 0;
      const helpers = childrenOf(cliPid);
      assert.ok(helpers.length > 0, "the CLI runs its local helper");
      process.kill(cliPid, "SIGKILL");
      for (const pid of helpers) process.kill(pid, "SIGKILL");
      await first.cli.waitForExit(10_000);
      assert.notDeepEqual(
        (await snapshot(suite.local)).resolvConf,
        before.resolvConf,
        "SIGKILL left L's resolver rewritten",
      );

      const next = await connect();
      try {
        assert.match(next.log(), /a previous helper's bhl0: undone: rewritten \/etc\/resolv\.conf/);
        await assertReaches(next);
        await disconnectsRestoring(next, before);
      } finally {
        await next.cli.stop(15_000);
      }
    });
  },
);
