/**
 * Issue 15, the bar "two sessions at once to two remotes, both directions": two `backhaul connect`
 * runs in L at once, to R1 and R2 (namespaces entered by `exec:` commands saved as "r1" and "r2",
 * as in cli-sessions.test.ts). Each R reaches S by name (the forward path), and L reaches P1 and
 * P2, networks behind R1 and R2 alone, named only in each R's hosts file:
 *
 *   - session 1: `--remote-route P1 --remote-dns-domain r1.test`, a plain `curl http://web.r1.test/`
 *   - session 2: `--remote-route P2 --socks 1081`, P2 by address through L's second TUN and by
 *     name through the proxy (socks5h: R2's resolver).
 *
 * Neither remote reaches the other's P: L's routes into one session's TUN are never advertised to
 * the other's remote.
 *
 * Session 2 takes no --remote-dns-domain: where no systemd-resolved runs (as in L), the domains go
 * into resolv.conf, and a second session's rewrite would stack on the first's (its forwarder's
 * "other names" going to the first's forwarder), which a disconnect out of order broke. The second
 * test shows such a second session refused, saying why, with L's resolver whole.
 *
 * Each session has its own link subnet: L's two TUNs (bhl0, bhl1) hold each one's first host.
 * Ctrl+C on session 1 (SIGINT to its PID) while a transfer from P2 runs through session 2: the
 * transfer is intact, session 2 never leaves "connected", and L loses exactly session 1's changes
 * (its TUN's routes and link gone, resolv.conf back byte for byte, session 2's lines untouched).
 * After both end, L's routes, links and resolv.conf are byte for byte as before.
 *
 *   P1 198.18.91.10 web.r1.test — R1 ┐
 *                                    ├ L (both CLIs) — S www.corp.test
 *   P2 198.18.92.10 web.r2.test — R2 ┘
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { LINK_SUBNET_OPTIONS, distSkipReason } from "./cli/command.js";
import { execRemotesForSuite, type ExecRemote } from "./cli/exec-remotes.js";
import { Cli } from "./cli/json-cli.js";
import { ZONE } from "./dns/zone.js";
import { attachRemotePrivate } from "./reverse/remote-private.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { TWO_REMOTES } from "./netns/address-plan.js";
import { type NetworkNamespace } from "./netns/index.js";
import { netnsSkipReason } from "./netns/preconditions.js";
import { remoteState } from "./sshd/private-lab.js";

const MB = 1_000_000;
/** As cli-remote-route.test.ts: a disconnect, signal to exit, restores this computer within this. */
const DISCONNECT_MS = 20_000;
const SOCKS = "127.0.0.1:1081";

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "ping", "unshare", "dnsmasq", "iperf3"] }) ??
  distSkipReason();

interface Remote extends ExecRemote {
  /** P's HTTP server, behind this remote only, and its name in this remote's hosts file. */
  server: string;
  host: string;
}

interface Snapshot {
  routes4: string[];
  routes6: string[];
  links: string[];
  resolvConf: Buffer;
}

/** L's routes and links, a line each; link-local lines are the kernel's own, and come late. */
async function snapshot(ns: NetworkNamespace): Promise<Snapshot> {
  const lines = async (args: string[]): Promise<string[]> =>
    (await ns.ip(args)).stdout.split("\n").filter((line) => line !== "" && !line.includes("fe80"));
  return {
    routes4: await lines(["-4", "route", "show", "table", "all"]),
    routes6: await lines(["-6", "route", "show", "table", "all"]),
    // One line a link, without its addresses (link/ether …), as remoteState does.
    links: (await lines(["-o", "link", "show"])).map((line) => line.replace(/\s+link\/\S+.*$/, "")),
    resolvConf: readFileSync(join("/etc/netns", ns.name, "resolv.conf")),
  };
}

type Lines = Omit<Snapshot, "resolvConf">;

const linesOf = ({ routes4, routes6, links }: Snapshot): Lines => ({ routes4, routes6, links });

/** `snapshot`'s lines but those of the interface `tun`: what L holds once `tun`'s session is gone. */
function without(shot: Snapshot, tun: string): Lines {
  const mentions = new RegExp(`(dev |^\\d+: )${tun}\\b`);
  const keep = (lines: string[]): string[] => lines.filter((line) => !mentions.test(line));
  return { routes4: keep(shot.routes4), routes6: keep(shot.routes6), links: keep(shot.links) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (10 s at most) until L's snapshot matches `expected`, then asserts it does. */
async function assertL(
  ns: NetworkNamespace,
  expected: Lines,
  resolvConf: Buffer,
  what: string,
): Promise<void> {
  let now = await snapshot(ns);
  for (let i = 0; i < 50 && JSON.stringify(linesOf(now)) !== JSON.stringify(expected); i++) {
    await sleep(200);
    now = await snapshot(ns);
  }
  assert.deepEqual(linesOf(now), expected, what);
  assert.deepEqual(now.resolvConf, resolvConf, `${what}: resolv.conf byte for byte`);
}

/** The TUN L routes `address` into. */
async function tunFor(ns: NetworkNamespace, address: string): Promise<string> {
  const route = (await ns.ip(["route", "get", address])).stdout;
  const tun = /dev (bhl\d+)/.exec(route)?.[1];
  assert.ok(tun, `L routes ${address} into a TUN of Backhaul's: ${route}`);
  return tun;
}

describe("two sessions at once to two remotes, each way on each", { skip, timeout: 600_000 }, () => {
  const behindOf = { r1: TWO_REMOTES.p1, r2: TWO_REMOTES.p2 } as const;
  /** The name of R's P, known to R's hosts file only. */
  const hostOf = (name: string): string => `web.${name}.test`;
  const suite = execRemotesForSuite("backhaul-two-remotes", async (name, ns, lab) => {
    // P behind R, its name in R's hosts file only: the exec: shell starts after this, so sees it.
    await attachRemotePrivate(lab, ns, { ...behindOf[name], name: hostOf(name), role: `p${name.slice(1)}` });
  });
  /** r1 and r2, each with its P's server address and name. */
  const remotes = (): [Remote, Remote] =>
    suite.remotes.map((remote) => ({
      ...remote,
      server: behindOf[remote.name].server.v4,
      host: hostOf(remote.name),
    })) as [Remote, Remote];
  const connect = (remote: Remote, options: readonly string[]): Cli => suite.connect(remote, options);

  /** Session 1's options: the suites' link subnets, P1 routed to L, r1.test resolved by R1. */
  const SESSION_1 = [
    ...LINK_SUBNET_OPTIONS,
    "--remote-route",
    TWO_REMOTES.p1.network.v4,
    "--remote-dns-domain",
    "r1.test",
  ];
  /** Session 2's options: a second link subnet of its own, P2 routed to L; how L finds R2's names follows. */
  const SESSION_2 = [
    "--link-subnet",
    TWO_REMOTES.secondLinkSubnet.network.v4,
    "--link-subnet6",
    TWO_REMOTES.secondLinkSubnet.network.v6,
    "--remote-route",
    TWO_REMOTES.p2.network.v4,
  ];

  const inL = (command: string) =>
    suite.local.run("bash", ["-o", "pipefail", "-c", command], { timeoutMs: 90_000 });

  test("each R reaches S, L reaches P1 and P2; Ctrl+C on one leaves the other and L exactly as it should", async () => {
    const [r1, r2] = remotes();
    const original = await snapshot(suite.local);
    const cli1 = connect(r1, SESSION_1);
    const cli2 = connect(r2, [...SESSION_2, "--socks", SOCKS]);
    try {
      await Promise.all([cli1.until("connected", 90_000), cli2.until("connected", 90_000)]);
      const log = () => `session 1:\n${cli1.describe()}\nsession 2:\n${cli2.describe()}`;

      // The forward direction: each remote reaches S by name.
      for (const remote of remotes())
        assert.equal(
          await downloadSha256(remote.ns, `www.${ZONE}`, 2 * MB),
          sha256(deterministicBytes(2 * MB)),
          `${remote.name} reaches S by name\n${log()}`,
        );

      // The reverse direction: two TUNs on L, one per session, each with its own link subnet.
      const tun1 = await tunFor(suite.local, r1.server);
      const tun2 = await tunFor(suite.local, r2.server);
      assert.notEqual(tun1, tun2, "each session has a TUN of its own");
      const both = await snapshot(suite.local);
      assert.notDeepEqual(without(both, tun1), linesOf(both), `${tun1} has links and routes on L`);

      const hello = "hello from S\n";
      const byName = await inL(`curl -sS --fail -m 20 http://${r1.host}/`);
      assert.equal(byName.stdout, hello, `L reaches P1 by R1's name: ${byName.stderr}\n${log()}`);
      const ping = await suite.local.run("ping", ["-c", "2", "-W", "5", r1.server]);
      assert.equal(ping.code, 0, `ping P1: ${ping.stdout}${ping.stderr}`);
      const byAddress = await inL(`curl -sS --fail -m 20 http://${r2.server}/`);
      assert.equal(byAddress.stdout, hello, `L reaches P2 through its TUN: ${byAddress.stderr}\n${log()}`);
      const proxied = await inL(`curl -sS --fail -m 20 -x socks5h://${SOCKS} http://${r2.host}/`);
      assert.equal(proxied.stdout, hello, `L reaches P2 by R2's name through --socks: ${proxied.stderr}`);
      // Each name is its own remote's: R2's is unknown to L's resolver (session 1 sends r1.test only).
      const leak = await inL(`getent hosts ${r2.host}`);
      assert.notEqual(leak.code, 0, `${r2.host} resolves only through session 2's proxy`);

      // Neither remote reaches the other's P through L: a session never advertises the routes
      // into another session's TUN on L (advertise.ts), only S's.
      for (const [remote, other] of [
        [r1, r2],
        [r2, r1],
      ] as const) {
        const route = await remote.ns.run("ip", ["route", "get", other.server]);
        assert.doesNotMatch(
          route.stdout,
          /dev bh0/,
          `${remote.name} routes ${other.name}'s P into its tunnel\n${log()}`,
        );
        const reach = await remote.ns.run("curl", ["-sS", "-m", "5", `http://${other.server}/`]);
        assert.notEqual(reach.code, 0, `${remote.name} reaches ${other.name}'s P through L`);
      }

      // A transfer from P2 (through session 2's proxy, by name) that outlasts session 1's Ctrl+C.
      const size = 40 * MB;
      const mark = cli2.events.length;
      const transfer = inL(
        `curl -sS --fail -m 60 --limit-rate 8M -x socks5h://${SOCKS} 'http://${r2.host}/bytes/${size}' | sha256sum`,
      );
      const deadline = Date.now() + 15_000;
      while (
        !cli2.events
          .slice(mark)
          .some((e) => e.type === "flow" && ((e as unknown as { downBytes?: number }).downBytes ?? 0) > MB)
      ) {
        assert.ok(Date.now() < deadline, `the transfer from P2 did not start:\n${log()}`);
        await sleep(100);
      }

      cli1.process.child.kill("SIGINT");
      assert.equal((await cli1.process.waitForExit(DISCONNECT_MS)).code, 0, cli1.describe());
      assert.equal(cli1.events.at(-1)?.state, "disconnected", cli1.describe());
      assert.equal(await remoteState(r1.ns), r1.before, `R1 is exactly as before:\n${cli1.describe()}`);
      // L loses session 1's TUN, its routes and its resolver, and nothing else.
      await assertL(suite.local, without(both, tun1), original.resolvConf, "L without session 1's changes");

      const fetched = await transfer;
      assert.equal(
        fetched.stdout.split(" ")[0],
        sha256(deterministicBytes(size)),
        `P2's transfer: ${fetched.stderr}`,
      );
      assert.equal(cli2.process.hasExited, false, "session 2 runs on");
      assert.ok(
        !cli2.events.slice(mark).some((e) => e.type === "state" && e.state !== "connected"),
        `session 2 never left "connected":\n${cli2.describe()}`,
      );
      const still = await inL(`curl -sS --fail -m 20 http://${r2.server}/`);
      assert.equal(still.stdout, hello, `L still reaches P2 through its TUN: ${still.stderr}`);
      assert.equal(
        await downloadSha256(r2.ns, `www.${ZONE}`, MB),
        sha256(deterministicBytes(MB)),
        "R2 still reaches S",
      );
      const gone = await inL(`curl -sS -m 5 http://${r1.server}/`);
      assert.notEqual(gone.code, 0, "P1 is out of L's reach with session 1 gone");

      cli2.process.child.kill("SIGINT");
      assert.equal((await cli2.process.waitForExit(DISCONNECT_MS)).code, 0, cli2.describe());
      assert.equal(await remoteState(r2.ns), r2.before, `R2 is exactly as before:\n${cli2.describe()}`);
      await assertL(suite.local, linesOf(original), original.resolvConf, "L after both sessions");
    } finally {
      await cli1.process.stop(15_000);
      await cli2.process.stop(15_000);
    }
  });

  test("a second session's --remote-dns-domain, where resolv.conf is rewritten, ends in error saying why; L's resolver stays whole", async () => {
    const [r1, r2] = remotes();
    const original = await snapshot(suite.local);
    const cli1 = connect(r1, SESSION_1);
    let cli2: Cli | undefined;
    try {
      await cli1.until("connected", 90_000);
      const first = readFileSync(join("/etc/netns", suite.local.name, "resolv.conf"));
      cli2 = connect(r2, [...SESSION_2, "--remote-dns-domain", "r2.test"]);
      const second = cli2;
      // The connect ends in error, saying why and what works instead, and R2 is as before.
      assert.equal((await second.process.waitForExit(90_000)).code, 1, second.describe());
      assert.match(
        second.events.at(-1)?.message ?? "",
        /names another Backhaul session's forwarder already.*end that session first, or .*--socks/,
        second.describe(),
      );
      // The agent restores R2 as its link closes; the CLI's exit on an error does not wait for it.
      let state = await remoteState(r2.ns);
      for (let i = 0; i < 75 && state !== r2.before; i++) {
        await sleep(200);
        state = await remoteState(r2.ns);
      }
      assert.equal(state, r2.before, `R2 is exactly as before within 15 s:\n${second.describe()}`);
      // Session 1's resolver is untouched and whole: its names, and L's own through it.
      assert.deepEqual(readFileSync(join("/etc/netns", suite.local.name, "resolv.conf")), first);
      for (const name of [r1.host, `www.${ZONE}`]) {
        const found = await inL(`getent hosts ${name}`);
        assert.equal(found.code, 0, `L resolves ${name}: ${found.stderr}\n${second.describe()}`);
      }
      cli1.process.child.kill("SIGINT");
      assert.equal((await cli1.process.waitForExit(DISCONNECT_MS)).code, 0, cli1.describe());
      await assertL(suite.local, linesOf(original), original.resolvConf, "L after both sessions");
    } finally {
      await cli1.process.stop(15_000);
      await cli2?.process.stop(15_000);
    }
  });
});
