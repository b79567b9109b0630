/**
 * Issue #4 end to end without SSH: the bundled remote agent in R, the bundled local helper in L,
 * DNS answered by this computer's resolver (dnsmasq in S), and R restored exactly afterwards.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { ZONE, ZONE_CASES, BIG_TXT_STRINGS } from "./dns/zone.js";
import {
  AGENT,
  buildFullPath,
  HELPER,
  snapshotRemote,
  startAgent,
  type AgentRun,
  type FullPath,
} from "./fullpath/topology.js";
import { netnsSkipReason } from "./netns/index.js";

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "dig", "curl", "dnsmasq", "getent", "ping"] }) ??
  (existsSync(AGENT) && existsSync(HELPER) ? undefined : "dist/ is not built: run `npm run build` first");

/** Resolves once the agent's log matches `pattern`; fails with the log after `timeoutMs`. */
async function logShows(run: AgentRun, pattern: RegExp, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pattern.test(run.log())) {
    assert.ok(Date.now() < until, `no ${pattern} in ${timeoutMs} ms:\n${run.log()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The answer section without TTLs, sorted: what must match between the two resolvers. */
function answers(digOutput: string): string[] {
  return digOutput
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith(";"))
    .map((line) =>
      line
        .split(/\s+/)
        .filter((_, i) => i !== 1)
        .join(" "),
    )
    .sort();
}

function status(digOutput: string): string {
  return /status: (\w+)/.exec(digOutput)?.[1] ?? "none";
}

describe("remote agent and DNS engine over the link", { skip, timeout: 240_000 }, () => {
  let path: FullPath;
  let run: AgentRun;
  let before_: Record<string, string>;

  before(async () => {
    path = await buildFullPath(["198.18.200.0/24"]);
    // R's own network overlaps one advertised prefix: the agent must skip it and say so.
    // Stable snapshots: no IPv6 duplicate address detection flipping "tentative" meanwhile.
    await path.remote.runChecked("sysctl", [
      "-qw",
      "net.ipv6.conf.all.accept_dad=0",
      "net.ipv6.conf.default.accept_dad=0",
    ]);
    const neighbour = await path.lab.createNamespace("n");
    await path.lab.addVethPair(path.remote, neighbour, { nameA: "own0", addressesA: ["198.18.200.1/24"] });
    before_ = await snapshotRemote(path);
    const cannot = await path.remote.run("dig", ["+time=1", "+tries=1", `host.${ZONE}`, "A"], {
      timeoutMs: 10_000,
    });
    assert.notEqual(status(cannot.stdout), "NOERROR", "R must not resolve the private zone on its own");
    run = startAgent(path);
    await run.ready;
  });
  after(() => path?.cleanup());

  test("the overlapping prefix is skipped and reported", () => {
    assert.match(run.log(), /not routing 198\.18\.200\.0\/24: .*own0/, run.log());
  });

  test("dig in R answers every record type as dig in L does against S", async () => {
    for (const question of ZONE_CASES) {
      const viaTunnel = await path.remote.runChecked(
        "dig",
        ["+time=3", "+tries=1", "+noall", "+answer", "+comments", question.name, question.type],
        { timeoutMs: 10_000 },
      );
      const direct = await path.local.runChecked(
        "dig",
        ["+time=3", "+tries=1", "+noall", "+answer", "+comments", question.name, question.type],
        { timeoutMs: 10_000 },
      );
      const label = `${question.name} ${question.type}`;
      assert.equal(status(viaTunnel.stdout), question.status, label);
      assert.deepEqual(answers(viaTunnel.stdout), answers(direct.stdout), label);
    }
  });

  test("a large TXT answer comes back complete over TCP", async () => {
    const result = await path.remote.runChecked("dig", ["+tcp", "+short", `big.${ZONE}`, "TXT"], {
      timeoutMs: 10_000,
    });
    const strings = result.stdout
      .trim()
      .split("\n")
      .map((line) => line.replace(/"/g, ""))
      .sort();
    assert.deepEqual(strings, [...BIG_TXT_STRINGS].sort());
  });

  test("a name that does not exist is NXDOMAIN, quickly", async () => {
    const result = await path.remote.run("dig", ["+time=3", "+tries=1", `nothing-here.${ZONE}`, "A"], {
      timeoutMs: 10_000,
    });
    assert.equal(status(result.stdout), "NXDOMAIN");
    // Quickly: before the DNS engine's first upstream attempt would time out (1.2 s), by dig's own
    // clock, which does not count starting dig in the namespace.
    const queryMs = Number(/;; Query time: (\d+) msec/.exec(result.stdout)?.[1] ?? NaN);
    assert.ok(queryMs < 1_000, `answered in ${queryMs} ms:\n${result.stdout}`);
  });

  test("getent and curl in R use the private names", async () => {
    const getent = await path.remote.runChecked("getent", ["hosts", `host.${ZONE}`], { timeoutMs: 10_000 });
    assert.match(getent.stdout, /198\.19\.1\.10|2001:db8:19:1::10/);
    const page = await path.remote.runChecked("curl", ["-sS", "-m", "10", `http://www.${ZONE}/`], {
      timeoutMs: 15_000,
    });
    assert.equal(page.stdout, "hello from S\n");
  });

  test("ping reaches S through the agent's TUN", async () => {
    const result = await path.remote.run("ping", ["-c", "2", "-i", "0.2", "-W", "2", "198.19.1.10"], {
      timeoutMs: 10_000,
    });
    assert.match(result.stdout, / 2 received/);
  });

  test("a clean stop leaves R exactly as it was", async () => {
    await run.agent.stop(10_000);
    assert.match(run.log(), /undone/, run.log());
    assert.deepEqual(await snapshotRemote(path), before_);
  });

  test("after SIGKILL, the next start restores R before it changes anything", async () => {
    const second = startAgent(path);
    await second.ready;
    assert.notDeepEqual(await snapshotRemote(path), before_, "the agent changed R while running");
    second.agent.child.kill("SIGKILL");
    await second.agent.exited;
    second.relay.destroy();
    assert.notDeepEqual(
      (await snapshotRemote(path)).resolvConf,
      before_.resolvConf,
      "SIGKILL left changes behind",
    );

    // A normal start, with its link held: until the link passes a CONFIG the agent has nothing
    // new to apply, so whatever it changes meanwhile is the recovery.
    let openLink = (): void => undefined;
    const linkAfter = new Promise<void>((resolve) => (openLink = resolve));
    const next = startAgent(path, [], { linkAfter });
    try {
      await logShows(next, /previous run: undone: /, 20_000);
      assert.deepEqual(
        await snapshotRemote(path),
        before_,
        "R restored before the new agent changed anything",
      );
      openLink();
      await next.ready;
      const log = next.log();
      const lastRecovery = log.lastIndexOf("previous run: ");
      const firstChange = log.search(/routing \d+ prefix|ready: /);
      assert.ok(lastRecovery >= 0 && firstChange > lastRecovery, `recovery first, then changes:\n${log}`);
      assert.notDeepEqual(await snapshotRemote(path), before_, "then it made its own changes");
    } finally {
      openLink();
      await next.agent.stop(10_000);
    }
    assert.deepEqual(await snapshotRemote(path), before_, next.log());
  });

  test("after SIGKILL, --recover-only restores R and exits", async () => {
    const crashed = startAgent(path);
    await crashed.ready;
    crashed.agent.child.kill("SIGKILL");
    await crashed.agent.exited;
    crashed.relay.destroy();
    assert.notDeepEqual(await snapshotRemote(path), before_, "SIGKILL left changes behind");
    const recovery = startAgent(path, ["--recover-only"]);
    const exit = await recovery.agent.waitForExit(20_000);
    assert.equal(exit.code, 0, recovery.log());
    assert.match(recovery.log(), /previous run: undone: /);
    assert.deepEqual(await snapshotRemote(path), before_);
  });

  test("when the link goes silent, keepalive notices and the agent restores R", async () => {
    const third = startAgent(path);
    await third.ready;
    third.relay.destroy(); // the channel stops carrying anything; stdin stays open, as on a dead network
    const exit = await third.agent.waitForExit(20_000);
    assert.equal(exit.code, 0, third.log());
    assert.deepEqual(await snapshotRemote(path), before_);
  });
});
