// This computer's entrance (--remote-route, --remote-dns-domain) leaves this computer exactly as it
// found it. In a namespace L standing for this computer (its resolv.conf a bind mount of
// /etc/netns/L/resolv.conf), e2e/local-entrance/driver.ts opens the local helper's entrance with a
// stand-in remote exit: ping and a name under the domain reach it through the TUN, the routes and
// resolver are in place, and after close, or after SIGKILL and the next start's recovery, L's
// routes, links and resolv.conf are byte for byte as before. The full path through a real agent
// is e2e/cli-remote-route.test.ts.
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ChildRpc } from "./netns/child-rpc.js";
import { inAddonLab, namespaceOnLan } from "./netns/addon-lab.js";
import type { NetworkNamespace } from "./netns/index.js";
import { assertNetworkRestored, networkSnapshot, type NetworkSnapshot } from "./netns/restored.js";
import type {
  EntranceDriverCommands,
  EntranceDriverConfig,
  EntranceDriverEvent,
} from "./local-entrance/protocol.js";

// CRLF, a tab and no final newline: any reformatting would show.
const ORIGINAL_RESOLV_CONF = "# L's own resolver\r\nsearch home.test\nnameserver 198.18.7.53\noptions\tedns0";
const P_NAME = "web.p.test";
const P_ADDRESS = "198.19.40.10";

type Driver = ChildRpc<EntranceDriverCommands, EntranceDriverEvent>;

/** L's network state: its routes, links and resolver, byte for byte. */
const snapshot = (ns: NetworkNamespace): Promise<NetworkSnapshot> => networkSnapshot(ns);

/** L is as `before` within 5 s. */
const assertRestored = (ns: NetworkNamespace, before: NetworkSnapshot, log: string): Promise<void> =>
  assertNetworkRestored(ns, before, () => log, { withinMs: 5_000 });

test(
  "this computer's entrance: TUN, routes and resolver are set, reached, and undone however it ends",
  { timeout: 180_000 },
  inAddonLab({ tun: true, tools: ["ping", "getent", "sysctl"] }, async (lab, t) => {
    const state = lab.tempDir("backhaul-local-entrance-");
    const l = await namespaceOnLan(lab, "local", ORIGINAL_RESOLV_CONF, {
      own: ["198.18.5.2/24", "2001:db8:5::2/64"],
      lan: ["198.18.5.1/24", "2001:db8:5::1/64"],
    });
    await l.ip(["route", "add", "default", "via", "198.18.5.1"]);
    await l.ip(["-6", "route", "add", "default", "via", "2001:db8:5::1"]);
    const config: EntranceDriverConfig = {
      netns: l.name,
      journalDir: join(state, "journal"),
      subnetV4: "198.18.0.0/30",
      subnetV6: "2001:db8:1::/64",
      remoteName: P_NAME,
      remoteAddress: P_ADDRESS,
    };
    const start = (): Driver =>
      ChildRpc.start<EntranceDriverCommands, EntranceDriverEvent>(l, "e2e/local-entrance/driver.ts", {
        args: [JSON.stringify(config)],
        name: "the entrance driver",
      });
    const open = { routes: ["198.19.40.0/24", "2001:db8:40::/48"], dnsDomains: ["P.test."] };
    const before = await snapshot(l);

    await t.test(
      "prefixes that would take this computer's own paths are refused, nothing changed",
      async () => {
        const driver = start();
        for (const [route, why] of [
          ["0.0.0.0/0", /default route/],
          ["198.18.4.0/23", /holds 198\.18\.5\.1, the gateway of this computer's default route/],
          ["2001:db8::/32", /holds 2001:db8:5::1, the gateway/],
          ["198.18.0.2/32", /overlaps the session's link subnet 198\.18\.0\.0\/30/],
        ] as const) {
          await assert.rejects(driver.request("open", { routes: [route], dnsDomains: [] }, 20_000), why);
        }
        await driver.stop();
        await assertRestored(l, before, driver.log);
      },
    );

    await t.test(
      "ping and a name under the domain reach the remote's side; close undoes it all",
      async () => {
        const driver = start();
        const info = await driver.request("open", open, 20_000);
        assert.deepEqual(info, { tun: "bhl0", routes: open.routes, dns: "resolv-conf" });
        const resolv = await readFile(`/etc/netns/${l.name}/resolv.conf`, "utf8");
        assert.match(
          resolv,
          /^nameserver 198\.18\.0\.1$/m,
          "resolv.conf names the stub on the TUN's address",
        );
        assert.doesNotMatch(resolv, /^nameserver 198\.18\.7\.53/m);
        assert.match((await l.ip(["route", "get", P_ADDRESS])).stdout, /dev bhl0/);
        assert.match((await l.ip(["-6", "route", "get", "2001:db8:40::9"])).stdout, /dev bhl0/);
        assert.match(
          (await l.ip(["route", "get", "198.18.5.9"])).stdout,
          /dev eth0/,
          "L's LAN stays on eth0",
        );
        assert.equal((await stat(join(config.journalDir, "bhl0.json"))).mode & 0o777, 0o600);
        assert.equal((await stat(config.journalDir)).mode & 0o777, 0o700);

        const ping = await l.run("ping", ["-c", "1", "-W", "5", P_ADDRESS]);
        assert.equal(ping.code, 0, `${ping.stdout}${ping.stderr}\n${driver.log}`);
        const names = await l.run("getent", ["ahostsv4", P_NAME]);
        assert.equal(names.code, 0, `${names.stderr}\n${driver.log}`);
        assert.match(names.stdout, new RegExp(`^${P_ADDRESS.replaceAll(".", "\\.")} `, "m"));
        await driver.waitFor("the DNS query at the remote's stub", (event) =>
          event.dst === "198.18.0.2" && event.kind === "udp" ? true : undefined,
        );

        const closed = await driver.request("close", null, 20_000);
        assert.equal(closed.failed, 0, driver.log);
        assert.ok(closed.lines.includes("undone: rewritten /etc/resolv.conf"), closed.lines.join("\n"));
        await driver.stop();
        await assertRestored(l, before, driver.log);
        await assert.rejects(stat(join(config.journalDir, "bhl0.json")), { code: "ENOENT" });
      },
    );

    await t.test(
      "two entrances take two TUNs; after SIGKILL the next start undoes what was left",
      async () => {
        const first = start();
        await first.request("open", open, 20_000);
        const second = start();
        const other = { routes: ["198.19.41.0/24"], dnsDomains: [] };
        assert.equal(
          (await second.request("open", other, 20_000)).tun,
          "bhl1",
          "a live helper's slot is left alone",
        );
        await second.request("close", null, 20_000);
        await second.stop();

        process.kill(first.process.pid ?? 0, "SIGKILL");
        await first.waitForExit();
        const left = await snapshot(l);
        assert.notDeepEqual(left.resolvConf, before.resolvConf, "SIGKILL left resolv.conf rewritten");
        await stat(join(config.journalDir, "bhl0.json"));

        const next = start();
        const lines = await next.request("recover", null, 20_000);
        assert.ok(
          lines.includes("a previous helper's bhl0: undone: rewritten /etc/resolv.conf"),
          lines.join("\n"),
        );
        assert.ok(
          lines.includes("a previous helper's bhl0: already gone: TUN interface bhl0"),
          lines.join("\n"),
        );
        await next.stop();
        await assertRestored(l, before, next.log);
      },
    );
  }),
);
