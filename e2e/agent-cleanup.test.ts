// The agent leaves the remote exactly as it found it. In a namespace R whose /etc/resolv.conf is
// a bind mount of /etc/netns/R/resolv.conf (as `ip netns exec` sets up), a driver process
// (e2e/agent/driver.ts) opens a TUN, adds addresses and routes and rewrites resolv.conf, all
// through the journal. Then it is stopped three ways — SIGTERM; SIGKILL followed by a new start
// that recovers first; stdin closing (link loss) — and each time R's routes, links, addresses
// and resolv.conf (byte for byte) must be what they were before.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { AgentDriver } from "./agent/driver-client.js";
import type { DriverConfig } from "./agent/protocol.js";
import { assertNamespaceResolvConf } from "./agent/resolv-conf-guard.js";
import type { NetworkNamespace } from "./netns/index.js";
import { inAddonLab, namespaceOnLan } from "./netns/addon-lab.js";

// CRLF, a tab and no final newline: any reformatting would show.
const ORIGINAL_RESOLV_CONF = "# R's own resolver\r\nsearch corp.test\nnameserver 198.18.7.53\noptions\tedns0";
const STUB = "198.18.0.2";
const ADVERTISED = ["198.19.0.0/16", "198.19.5.0/24", "2001:db8:19::/48"];

interface Snapshot {
  routes4: string;
  routes6: string;
  links: string;
  addresses: string;
  resolvConf: Buffer;
}

async function snapshot(ns: NetworkNamespace): Promise<Snapshot> {
  const show = async (args: string[]): Promise<string> => (await ns.ip(args)).stdout;
  return {
    routes4: await show(["-4", "route", "show", "table", "all"]),
    routes6: await show(["-6", "route", "show", "table", "all"]),
    links: await show(["-br", "link", "show"]),
    addresses: await show(["-br", "address", "show"]),
    resolvConf: await readFile(`/etc/netns/${ns.name}/resolv.conf`),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** R as it settles after setup: two equal snapshots in a row. */
async function settledSnapshot(ns: NetworkNamespace): Promise<Snapshot> {
  let previous = await snapshot(ns);
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const current = await snapshot(ns);
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    previous = current;
  }
  assert.fail("R's routes and addresses did not settle within 10 s");
}

/** Waits (a little: the kernel removes a closed TUN at once) for R to be as before, then compares. */
async function assertRestored(ns: NetworkNamespace, before: Snapshot, log: string): Promise<void> {
  let after = await snapshot(ns);
  for (let i = 0; i < 25 && JSON.stringify(after) !== JSON.stringify(before); i++) {
    await sleep(200);
    after = await snapshot(ns);
  }
  assert.equal(after.routes4, before.routes4, log);
  assert.equal(after.routes6, before.routes6, log);
  assert.equal(after.links, before.links, log);
  assert.equal(after.addresses, before.addresses, log);
  assert.deepEqual(after.resolvConf, before.resolvConf, "resolv.conf is restored byte for byte");
}

async function assertApplied(ns: NetworkNamespace): Promise<void> {
  const resolv = await readFile(`/etc/netns/${ns.name}/resolv.conf`, "utf8");
  assert.match(resolv, new RegExp(`^nameserver ${STUB.replaceAll(".", "\\.")}$`, "m"));
  assert.doesNotMatch(resolv, /198\.18\.7\.53/, "our stub replaces the other nameservers");
  assert.match(resolv, /^search corp\.test$/m);
  const routes = (await ns.ip(["-4", "route", "show", "dev", "bh0"])).stdout;
  assert.match(routes, /^198\.19\.0\.0\/16 /m);
  assert.match((await ns.ip(["-6", "route", "show", "dev", "bh0"])).stdout, /^2001:db8:19::\/48 /m);
  assert.match((await ns.ip(["route", "get", "198.19.7.1"])).stdout, /dev bh0/);
  assert.match(
    (await ns.ip(["route", "get", "198.19.5.9"])).stdout,
    /dev eth0/,
    "R's own network stays on eth0",
  );
}

test(
  "agent cleanup: every system change is undone, however the agent ends",
  { timeout: 180_000 },
  inAddonLab({ tun: true, tools: ["sysctl"] }, async (lab, t) => {
    const state = lab.tempDir("backhaul-agent-e2e-");

    const r = await namespaceOnLan(lab, "remote", ORIGINAL_RESOLV_CONF, {
      own: ["198.19.5.1/24", "2001:db8:5::1/64"],
      lan: ["198.19.5.2/24", "2001:db8:5::2/64"],
    });
    await r.ip(["route", "add", "198.18.64.0/24", "via", "198.19.5.2"]);

    const config: DriverConfig = {
      netns: r.name,
      journalPath: join(state, "run", "journal.json"),
      tun: { name: "bh0", mtu: 1500, addresses: ["198.18.0.1/30", "2001:db8:1::1/64"] },
      advertised: ADVERTISED,
      dnsServers: [STUB],
      pauseAfterRecovery: false,
    };

    await t.test("inside R, /etc/resolv.conf is a bind mount of R's own file; here it is not", async () => {
      const mountinfo = (await r.runChecked("cat", ["/proc/self/mountinfo"])).stdout;
      assert.match(
        mountinfo,
        new RegExp(`^\\S+ \\S+ \\S+ \\S*/netns/${r.name}/resolv\\.conf /etc/resolv\\.conf `, "m"),
      );
      await assert.rejects(assertNamespaceResolvConf(r.name), /refusing to touch \/etc\/resolv\.conf/);
    });

    const before = await settledSnapshot(r);

    await t.test("applies, skips the prefix inside R's network, and SIGTERM undoes it all", async () => {
      const driver = AgentDriver.start(r, config);
      const recovered = await driver.next("recovered");
      assert.deepEqual(recovered, { event: "recovered", previousOwner: null, lines: [], failed: 0 });
      const ready = await driver.next("ready");
      assert.deepEqual(ready.routed, ["198.19.0.0/16", "2001:db8:19::/48"], driver.log);
      assert.deepEqual(ready.failed, []);
      assert.deepEqual(
        ready.skipped.map((skip) => [skip.prefix, skip.reason]),
        [["198.19.5.0/24", "inside-remote-network"]],
      );
      assert.match(
        ready.skipped[0]?.message ?? "",
        /inside 198\.19\.5\.0\/24, a network the remote is connected to on eth0/,
      );
      assert.equal(ready.dns.kind, "resolv-conf");
      await assertApplied(r);
      assert.equal((await stat(config.journalPath)).mode & 0o777, 0o600);
      assert.equal((await stat(join(state, "run"))).mode & 0o777, 0o700);

      driver.signal("SIGTERM");
      assert.deepEqual(await driver.waitForExit(), { code: 0, signal: null }, driver.log);
      const undone = await driver.next("undone");
      assert.equal(undone.reason, "received SIGTERM");
      assert.equal(undone.failed, 0, driver.log);
      await assertRestored(r, before, driver.log);
      await assert.rejects(
        stat(config.journalPath),
        { code: "ENOENT" },
        "no journal is left after a clean stop",
      );
    });

    await t.test(
      "a second agent is refused while the first runs; after SIGKILL the next start recovers first",
      async () => {
        const first = AgentDriver.start(r, config);
        await first.next("ready");
        const second = AgentDriver.start(r, config);
        const refused = await second.next("refused");
        assert.match(refused.message, new RegExp(`another backhaul agent \\(pid ${first.pid}\\) is running`));
        assert.deepEqual(await second.waitForExit(), { code: 2, signal: null });
        await assertApplied(r);

        first.signal("SIGKILL");
        assert.deepEqual(await first.waitForExit(), { code: null, signal: "SIGKILL" });
        assert.notDeepEqual(
          (await snapshot(r)).resolvConf,
          before.resolvConf,
          "SIGKILL left resolv.conf rewritten",
        );
        await stat(config.journalPath);

        const next = AgentDriver.start(r, { ...config, pauseAfterRecovery: true });
        const recovered = await next.next("recovered");
        assert.equal(recovered.previousOwner, first.pid);
        assert.equal(recovered.failed, 0, next.log);
        assert.ok(recovered.lines.includes(`undone: rewritten /etc/resolv.conf`), next.log);
        assert.ok(recovered.lines.includes("already gone: TUN interface bh0"), next.log);
        await assertRestored(r, before, next.log);

        await next.continue();
        await next.next("ready");
        await assertApplied(r);
        next.signal("SIGTERM");
        assert.deepEqual(await next.waitForExit(), { code: 0, signal: null }, next.log);
        await assertRestored(r, before, next.log);
      },
    );

    await t.test(
      "another user squatting the agent's old lock name cannot stop the agent or its recovery",
      async () => {
        const crashed = AgentDriver.start(r, config);
        await crashed.next("ready");
        crashed.signal("SIGKILL");
        await crashed.waitForExit();

        // As nobody, in R: bind the abstract socket the agent used to lock with (its name was
        // predictable), and try the new lock file. A plain `node -e`: nobody may not read the checkout.
        const oldName = `backhaul-agent-${createHash("sha256").update(config.journalPath).digest("hex").slice(0, 32)}`;
        const squat = [
          'const net = require("node:net"), fs = require("node:fs");',
          // An argument cannot hold the abstract name's leading NUL: added here.
          "net.createServer().listen({ path: '\\0' + process.argv[1] }, () => {",
          "  let lockFile;",
          "  try { fs.openSync(process.argv[2], 'r'); lockFile = 'opened'; } catch (e) { lockFile = e.code; }",
          "  process.stdout.write(JSON.stringify({ bound: true, lockFile }) + '\\n');",
          "});",
        ].join("\n");
        const squatter = r.spawn("setpriv", [
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          process.execPath,
          "-e",
          squat,
          oldName,
          `${config.journalPath}.lock`,
        ]);
        try {
          const [line] = (await once(squatter.child.stdout!, "data")) as [Buffer];
          assert.deepEqual(JSON.parse(line.toString()), { bound: true, lockFile: "EACCES" });

          const next = AgentDriver.start(r, config);
          const recovered = await next.next("recovered");
          assert.equal(recovered.previousOwner, crashed.pid, next.log);
          assert.equal(recovered.failed, 0, next.log);
          await next.next("ready");
          await assertApplied(r);
          next.signal("SIGTERM");
          assert.deepEqual(await next.waitForExit(), { code: 0, signal: null }, next.log);
          await assertRestored(r, before, next.log);
        } finally {
          await squatter.stop();
        }
      },
    );

    await t.test("stdin closing (link loss) undoes it all", async () => {
      const driver = AgentDriver.start(r, config);
      await driver.next("ready");
      await assertApplied(r);
      driver.closeStdin();
      assert.deepEqual(await driver.waitForExit(), { code: 0, signal: null }, driver.log);
      assert.match((await driver.next("undone")).reason, /^the link \(stdin\) (ended|closed)$/);
      await assertRestored(r, before, driver.log);
    });
  }),
);
