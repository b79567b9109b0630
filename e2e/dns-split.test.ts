/**
 * Issue 16, split DNS on the remote, end to end: `backhaul connect --dns split` in L over OpenSSH
 * to R, whose own resolver is a dnsmasq in Q that only R reaches (remote.test, and a decoy answer
 * for host.corp.test that only a leak would show). Names under corp.test (this computer's domain)
 * and PTRs of the advertised prefixes resolve on R through the link, every other name through Q,
 * the DNS table shows only the former, and R's resolv.conf is restored byte for byte.
 *
 *   Q 198.18.5.2 (dnsmasq) — R 198.18.5.1 / 198.18.1.1 (sshd, agent) — L 198.18.1.2 (CLI) — S (corp.test)
 *
 * It also measures what split mode costs a name outside the domains on R (getaddrinfo through
 * glibc, as programs resolve), before Backhaul and with it, and prints it: no timing assertion.
 * Those names go through the native relay's thread (native/src/dns_relay_linux.c), which the
 * agent's log names; the JavaScript relay is its fallback where the addon has none.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CLI,
  cliInHome,
  cliInRuntimeDir,
  connectInHome,
  LINK_SUBNET_OPTIONS,
  S_ROUTE_OPTIONS,
} from "./cli/command.js";
import { Cli } from "./cli/json-cli.js";
import { ZONE } from "./dns/zone.js";
import {
  addRemoteResolver,
  checkDnsTableHoldsOnlySplit,
  checkSplitDomainOnRemote,
  dnsTableNames,
  digShort,
  LATENCY_LOOKUPS,
  latencyReport,
  lookupLatency,
  PUB,
  REMOTE_ZONE,
  untilRemoteResolves,
  type Latency,
} from "./dns/remote-resolver.js";
import { CORP_NET, REMOTE_RESOLVER, SSH_LINK, VPN_UP } from "./netns/address-plan.js";
import { heldEchoFlow } from "./nat/held-echo-flow.js";
import { runningSessions } from "../src/main/broker/session-control.js";
import type { RemoteDnsStatus } from "../src/shared/remote-dns-status.js";
import { NetnsLab, netnsSkipReason, type NetworkNamespace } from "./netns/index.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { remoteState, startSshdWithPrivateNetwork } from "./sshd/private-lab.js";
import type { TestSshd } from "./sshd/server.js";

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "dig", "dnsmasq"] }) ??
  sshdSkipReason() ??
  (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first");

const DISCONNECT_MS = 3_000;
const AGENT_ADDON = join(dirname(CLI), "agent", "backhaul_native.node");
/** The domain of a VPN that comes up on L mid-session. */
const VPN_DOMAIN = "vpn.test";
/** Whether the addon the CLI deploys has the native relay (an older one falls back to JavaScript). */
const agentAddonRelays =
  spawnSync(
    process.execPath,
    [
      "-e",
      `const m = { exports: {} }; process.dlopen(m, process.argv[1]); process.exit(m.exports.DnsRelay ? 0 : 1)`,
      AGENT_ADDON,
    ],
    { timeout: 10_000 },
  ).status === 0;

describe("split DNS on the remote (--dns split)", { skip, timeout: 300_000 }, () => {
  const lab = new NetnsLab();
  const home = mkdtempSync(join(tmpdir(), "backhaul-split-dns-"));
  let sshd: TestSshd;
  let remote: NetworkNamespace;
  let local: NetworkNamespace;
  let before_: string;
  /** R's resolv.conf before Backhaul, byte for byte. */
  let resolvBefore: Buffer;
  const latency: Record<string, Latency> = {};
  let relay = "";

  before(async () => {
    sshd = await startSshdWithPrivateNetwork(lab, home);
    remote = sshd.remote;
    local = sshd.local;
    await addRemoteResolver(lab, remote);
    // Written in place: R's processes see /etc/netns/R/resolv.conf through a bind mount.
    writeFileSync(
      join("/etc/netns", remote.name, "resolv.conf"),
      `# R's own resolver\nnameserver ${REMOTE_RESOLVER.dns.v4}\noptions edns0\n`,
    );
    await untilRemoteResolves(remote, "R's resolv.conf");
    before_ = await remoteState(remote);
    resolvBefore = readFileSync(remoteResolvConf());
  });
  after(async () => {
    await sshd?.cleanup();
    await lab.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  const remoteResolvConf = (): string => join("/etc/netns", remote.name, "resolv.conf");

  /** `runtimeDir`: the session's control socket goes there (not the machine's shared one). */
  const connect = (extra: readonly string[], runtimeDir?: string): Cli =>
    new Cli(
      local.spawn("env", [
        ...(runtimeDir === undefined ? [] : [`XDG_RUNTIME_DIR=${runtimeDir}`, "env"]),
        ...connectInHome(home, `ssh://bhdev@${SSH_LINK.remote.v4}`, sshd.keys.plain, [
          "--json",
          "--accept-new-host-key",
          ...LINK_SUBNET_OPTIONS,
          ...S_ROUTE_OPTIONS,
          ...extra,
        ]),
      ]),
    );

  /**
   * `backhaul diagnose host.corp.test:80 --json` against the session whose control socket is in
   * `runtimeDir`, until its remoteDns passes `done` (the agent reports every 3 s): 20 s at most.
   */
  const untilRemoteDns = async (
    runtimeDir: string,
    done: (dns: RemoteDnsStatus) => boolean,
  ): Promise<RemoteDnsStatus> => {
    let last = "";
    for (const started = Date.now(); Date.now() - started < 20_000;) {
      const result = await local.run(
        "env",
        [
          `XDG_RUNTIME_DIR=${runtimeDir}`,
          "env",
          ...cliInHome(home, ["diagnose", `host.${ZONE}:80`, "--json"]),
        ],
        { timeoutMs: 60_000 },
      );
      last = result.stdout + result.stderr;
      const said = JSON.parse(result.stdout.trim()) as { type: string; remoteDns?: RemoteDnsStatus | null };
      assert.equal(said.type, "diagnosis", last);
      if (said.remoteDns && done(said.remoteDns)) return said.remoteDns;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.fail(`diagnose's remoteDns did not get there within 20 s: ${last}`);
  };

  /** Ctrl+C: exit 0 within the contract, and R exactly as before (its resolv.conf byte for byte). */
  const disconnectsCleanly = async (cli: Cli): Promise<void> => {
    cli.process.child.kill("SIGINT");
    assert.equal((await cli.process.waitForExit(DISCONNECT_MS)).code, 0, cli.describe());
    assert.equal(await remoteState(remote), before_, `R is exactly as before; events:\n${cli.describe()}`);
  };

  test("before Backhaul, R's own resolver answers remote.test, and the decoy for corp.test", async () => {
    assert.deepEqual(await digShort(remote, [PUB, "A"]), [REMOTE_RESOLVER.pub]);
    assert.deepEqual(await digShort(remote, [`host.${ZONE}`, "A"]), [REMOTE_RESOLVER.decoy]);
    latency.before = await lookupLatency(remote, PUB);
  });

  test("--dns split --dns-domain corp.test: corp.test and PTRs through the link, the rest through R's own resolver", async () => {
    const runtimeDir = mkdtempSync(join(tmpdir(), "backhaul-split-dns-run-"));
    const cli = connect(["--dns", "split", "--dns-domain", ZONE], runtimeDir);
    try {
      await cli.until("connected", 90_000);
      const resolvConf = readFileSync(join("/etc/netns", remote.name, "resolv.conf"), "utf8");
      assert.match(resolvConf, /^nameserver 198\.18\.0\.1$/m, "R's resolver is the agent's forwarder");
      assert.match(resolvConf, /^options edns0$/m, "R's options stay");
      const agentDns = cli.events.find((e) => e.type === "log" && /split DNS forwarder/.test(e.line ?? ""));
      relay = /UDP relayed by its native thread/.test(agentDns?.line ?? "") ? "native thread" : "JavaScript";
      assert.equal(
        relay,
        agentAddonRelays ? "native thread" : "JavaScript",
        `the agent relays UDP natively when its addon can: ${agentDns?.line ?? "no log line"}`,
      );

      // Every type under corp.test: exactly what S answers L.
      await checkSplitDomainOnRemote(remote, local);
      assert.deepEqual(await digShort(remote, ["+tcp", `host.${ZONE}`, "A"]), [CORP_NET.host.v4], "over TCP");

      // Names outside: R's own resolver, with the answers only it has.
      assert.deepEqual(await digShort(remote, [PUB, "A"]), [REMOTE_RESOLVER.pub]);
      assert.deepEqual(await digShort(remote, ["+tcp", PUB, "A"]), [REMOTE_RESOLVER.pub], "over TCP");
      assert.deepEqual(await digShort(remote, [`txt.${REMOTE_ZONE}`, "TXT"]), ['"remote only"']);
      latency.split = await lookupLatency(remote, PUB);

      await checkDnsTableHoldsOnlySplit(cli);
      // The names that never show in the DNS table are counted: `backhaul diagnose --json` says
      // how many went through the link and how many to R's own resolver (3 digs and the latency's).
      const outside = 3 + LATENCY_LOOKUPS;
      const remoteDns = await untilRemoteDns(runtimeDir, (dns) => (dns.viaRemote ?? 0) >= outside);
      assert.equal(remoteDns.mode, "split");
      assert.equal(
        remoteDns.setup,
        agentAddonRelays ? "resolv-conf-forwarder-native" : "resolv-conf-forwarder-javascript",
      );
      assert.ok(
        (remoteDns.viaLink ?? 0) > 0,
        `corp.test's lookups went through the link: ${JSON.stringify(remoteDns)}`,
      );
      assert.equal(remoteDns.unanswered, 0, "R's own resolver answered every name");
      console.log(`split DNS counts after the suite's lookups: ${JSON.stringify(remoteDns)}`);
      await disconnectsCleanly(cli);
    } finally {
      await cli.process.stop(15_000);
      rmSync(runtimeDir, { recursive: true, force: true });
    }
    assert.deepEqual(
      await digShort(remote, [`host.${ZONE}`, "A"]),
      [REMOTE_RESOLVER.decoy],
      "R's resolver is back",
    );
  });

  test("the default is split, with this computer's search domain: corp.test from L's resolv.conf; a VPN's domain joins mid-session", async () => {
    const localConf = join("/etc/netns", local.name, "resolv.conf");
    const original = readFileSync(localConf);
    writeFileSync(localConf, `${original.toString()}search ${ZONE}\n`);
    try {
      const cli = connect([]);
      try {
        await cli.until("connected", 90_000);
        const notes = cli.events.filter((e) => e.type === "log").map((e) => e.line ?? "");
        assert.ok(
          notes.some((line) => line.startsWith(`split DNS: names under ${ZONE} and reverse lookups`)),
          notes.join("\n"),
        );
        assert.deepEqual(await digShort(remote, [`host.${ZONE}`, "A"]), [CORP_NET.host.v4]);
        assert.deepEqual(await digShort(remote, [PUB, "A"]), [REMOTE_RESOLVER.pub]);

        // A VPN comes up on L: its domain in the resolver's search list, then its route (which
        // the route watch notices). Names under it go through the link from then on, no reconnect.
        const vpnName = `www.${VPN_DOMAIN}`;
        await digShort(remote, [vpnName, "A"]);
        assert.ok(!dnsTableNames(cli).includes(vpnName), "before the VPN, its names stay on R");
        writeFileSync(localConf, `${original.toString()}search ${ZONE} ${VPN_DOMAIN}\n`);
        await local.ip(["link", "add", "bh-vpn", "type", "veth", "peer", "name", "bh-vpn-p"]);
        await local.ip(["link", "set", "bh-vpn-p", "up"]);
        await local.ip(["link", "set", "bh-vpn", "up"]);
        await local.ip(["addr", "add", `${VPN_UP.local.v4}/24`, "dev", "bh-vpn"]);
        const joined = `split DNS: this computer's domains changed; names under ${ZONE}, ${VPN_DOMAIN} now go through the link`;
        for (let waited = 0; !cli.events.some((e) => e.line === joined); waited += 100) {
          if (waited > 15_000) assert.fail(`not said within 15 s: ${joined}\n${cli.describe()}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        for (let waited = 0; !dnsTableNames(cli).includes(vpnName) && waited < 10_000; waited += 200) {
          await digShort(remote, [vpnName, "A"]);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        assert.ok(
          dnsTableNames(cli).includes(vpnName),
          `${vpnName} went through the link:\n${cli.describe()}`,
        );
        await disconnectsCleanly(cli);
      } finally {
        await cli.process.stop(15_000);
        await local.ip(["link", "del", "bh-vpn"]).catch(() => undefined);
      }
    } finally {
      writeFileSync(localConf, original);
    }
  });

  test("the DNS mode changed while connected (split → all → off) applies within 15 s, flows kept; off is R's own file byte for byte; Ctrl+C restores", async () => {
    const runtimeDir = mkdtempSync(join(tmpdir(), "backhaul-split-dns-run-"));
    const cli = connect(["--dns", "split", "--dns-domain", ZONE], runtimeDir);
    const flow = heldEchoFlow(remote, CORP_NET.host.v4);
    try {
      await cli.until("connected", 90_000);
      assert.match(
        readFileSync(remoteResolvConf(), "utf8"),
        /^nameserver 198\.18\.0\.1$/m,
        "split's forwarder",
      );
      await flow.echoes("before");
      // As a user switches a `backhaul connect` session: `backhaul dns MODE`, which finds the
      // session by its control socket (the window's Settings → DNS do the same for its sessions).
      const [session, ...others] = await runningSessions(join(runtimeDir, "backhaul-sessions"));
      assert.ok(session && others.length === 0, "this test's session, alone in its directory");
      const setMode = async (mode: "all" | "off"): Promise<void> => {
        const result = await local.run("env", cliInRuntimeDir(runtimeDir, home, ["dns", mode, "--json"]), {
          timeoutMs: 30_000,
        });
        assert.equal(result.code, 0, `backhaul dns ${mode}: ${result.stdout}${result.stderr}`);
        const said = JSON.parse(result.stdout.trim()) as {
          type: string;
          session: string;
          mode: string;
          message: string;
        };
        assert.deepEqual(
          [said.type, said.session, said.mode],
          ["dnsMode", session.name, mode],
          result.stdout,
        );
        // It returns once the agent reports the mode in force, not when the request is sent.
        assert.match(said.message, /the remote's resolver has switched$/, result.stdout);
      };
      const within15s = async (what: string, done: () => boolean | Promise<boolean>): Promise<void> => {
        for (let waited = 0; !(await done()); waited += 100) {
          if (waited > 15_000) assert.fail(`not within 15 s: ${what}\n${cli.describe()}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      const agentSaid = (line: string): boolean =>
        cli.events.some((e) => e.type === "log" && e.line?.endsWith(line));

      await setMode("all");
      await within15s("R's resolv.conf names the stub for every name", () =>
        readFileSync(remoteResolvConf(), "utf8").includes(
          "names are resolved through the link to your computer",
        ),
      );
      assert.doesNotMatch(
        readFileSync(remoteResolvConf(), "utf8"),
        /nameserver 198\.18\.5\.2/,
        "R's own server is out",
      );
      assert.match(readFileSync(remoteResolvConf(), "utf8"), /^options edns0$/m, "R's options stay");
      assert.ok(agentSaid("dns: now all, every name through the link"), cli.describe());
      // The remote's DNS as diagnose reports it follows: all over resolv.conf, no forwarder to count.
      assert.deepEqual(await untilRemoteDns(runtimeDir, (dns) => dns.mode === "all"), {
        mode: "all",
        setup: "resolv-conf",
      });
      // A name outside corp.test now goes through the link: L's resolver, and the DNS table.
      await within15s(`${PUB} in the DNS table`, async () => {
        await digShort(remote, [PUB, "A"]);
        return dnsTableNames(cli).includes(PUB);
      });
      await flow.echoes("after all");

      await setMode("off");
      await within15s("R's resolv.conf as before Backhaul", () =>
        readFileSync(remoteResolvConf()).equals(resolvBefore),
      );
      assert.ok(agentSaid("dns: now off, the remote's own resolver for every name"), cli.describe());
      assert.deepEqual(await untilRemoteDns(runtimeDir, (dns) => dns.mode === "off"), {
        mode: "off",
        setup: "none",
      });
      assert.deepEqual(await digShort(remote, [PUB, "A"]), [REMOTE_RESOLVER.pub], "R's own resolver again");
      assert.deepEqual(
        await digShort(remote, [`host.${ZONE}`, "A"]),
        [REMOTE_RESOLVER.decoy],
        "corp.test too",
      );
      // Still connected: the flow opened in split mode and a new one both go through the tunnel.
      await flow.echoes("after off");
      const curl = await remote.run(
        "curl",
        ["-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", `http://${CORP_NET.host.v4}/`],
        { timeoutMs: 20_000 },
      );
      assert.equal(curl.stdout, "200", curl.stderr);
      flow.close();
      await disconnectsCleanly(cli);
    } finally {
      flow.close();
      await cli.process.stop(15_000);
      rmSync(runtimeDir, { recursive: true, force: true });
    }
  });

  test("the latency of a name outside the domains on R, before Backhaul and with split DNS (no assertion)", () => {
    assert.ok(latency.before && latency.split, "both were measured");
    console.log(latencyReport(latency.before, relay, latency.split));
  });
});
