/**
 * Issue 16, split DNS on a remote that runs systemd-resolved, end to end: R's resolv.conf names
 * resolved's stub 127.0.0.53, and resolved (with its own D-Bus system bus) runs in R with Q's
 * dnsmasq as its server (e2e/dns/resolved-lab.ts: fetched with apt-get download, never installed).
 * `backhaul connect --dns split --dns-domain corp.test` sets ~corp.test and the reverse zones on the
 * TUN link with resolvectl, so names under corp.test (every type) resolve on R through the link,
 * and every other name goes from resolved to Q as before, never touching Backhaul; Ctrl+C takes the
 * link, and so its settings, away, and leaves R's resolv.conf as it was.
 *
 *   Q 198.18.5.2 (dnsmasq) — R (resolved, agent) — L 198.18.1.2 (CLI) — S (corp.test)
 *
 * The agent enters R through an `exec:` target that joins the bus's namespaces (nsenter): it must
 * share the private mount namespace where /run holds the bus's socket, and run as root, whom
 * resolved lets change a link's DNS without polkit. sshd would need starting inside it too.
 * The getaddrinfo latency of a name outside corp.test, before Backhaul and with it, is printed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { shellCommand } from "../src/main/broker/deploy/shell-quote.js";
import { cliInHome, LINK_SUBNET_OPTIONS, sshCliSkipReason, S_ROUTE_OPTIONS } from "./cli/command.js";
import { Cli } from "./cli/json-cli.js";
import {
  addRemoteResolver,
  checkDnsTableHoldsOnlySplit,
  checkSplitDomainOnRemote,
  digShort,
  latencyReport,
  lookupLatency,
  PUB,
  REMOTE_ZONE,
  untilRemoteResolves,
  type Latency,
} from "./dns/remote-resolver.js";
import { RESOLVECTL_DIR, ResolvedInNamespace, unpackedResolved } from "./dns/resolved-lab.js";
import { ZONE } from "./dns/zone.js";
import { CORP_NET, REMOTE_RESOLVER } from "./netns/address-plan.js";
import { askSession, runningSessions } from "../src/main/broker/session-control.js";
import { NetnsLab, type NetworkNamespace } from "./netns/index.js";
import { whenMet } from "./netns/preconditions.js";
import { remoteState, startSshdWithPrivateNetwork } from "./sshd/private-lab.js";
import type { TestSshd } from "./sshd/server.js";

const skip = sshCliSkipReason(["dig", "dnsmasq", "unshare", "nsenter", "dbus-daemon"]);

const DISCONNECT_MS = 3_000;
/** The reverse zone of S's IPv4 route (198.19.0.0/16): ours, so on the link too. */
const REVERSE4 = "19.198.in-addr.arpa";

describe("split DNS on a remote with systemd-resolved", { skip, timeout: 240_000 }, () => {
  const lab = new NetnsLab();
  const home = mkdtempSync(join(tmpdir(), "backhaul-split-resolved-"));
  const resolvedDir = mkdtempSync(join(tmpdir(), "backhaul-resolved-run-"));
  const rootHome = mkdtempSync(join(tmpdir(), "backhaul-resolved-root-"));
  const hostResolvConf = readFileSync("/etc/resolv.conf");
  let unavailable: string | undefined;
  let sshd: TestSshd | undefined;
  let remote: NetworkNamespace;
  let local: NetworkNamespace;
  let resolved: ResolvedInNamespace | undefined;
  let before_: string;
  const latency: Partial<Record<"before" | "split", Latency>> = {};

  before(async () => {
    unavailable = await unpackedResolved();
    if (unavailable !== undefined) return;
    sshd = await startSshdWithPrivateNetwork(lab, home);
    remote = sshd.remote;
    local = sshd.local;
    await addRemoteResolver(lab, remote);
    // R's processes see this file at /etc/resolv.conf (ip netns exec binds it, and the bus's
    // mount namespace inherits that): resolved's stub, as on a remote where it runs.
    writeFileSync(
      join("/etc/netns", remote.name, "resolv.conf"),
      "nameserver 127.0.0.53\noptions edns0 trust-ad\n",
    );
    try {
      resolved = await ResolvedInNamespace.start(remote, resolvedDir, REMOTE_RESOLVER.dns.v4);
    } catch (error) {
      unavailable = `systemd-resolved did not start in R: ${String(error)}`;
      return;
    }
    await untilRemoteResolves(remote, "resolved's stub");
    before_ = await remoteState(remote);
  });
  after(async () => {
    await resolved?.stop();
    await sshd?.cleanup();
    await lab.cleanup();
    for (const dir of [home, resolvedDir, rootHome]) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(
      readFileSync("/etc/resolv.conf"),
      hostResolvConf,
      "this machine's resolv.conf is untouched",
    );
  });

  const ready = (): string | undefined => unavailable;

  /** `runtimeDir`: the session's control socket goes there (not the machine's shared one). */
  const connect = (extra: readonly string[], runtimeDir?: string): Cli => {
    if (!resolved) throw new Error("resolved is not running");
    // PATH: the package's resolvectl, which the agent runs by name (this machine has none).
    const intoR = resolved.enter([
      "env",
      `HOME=${rootHome}`,
      `PATH=${RESOLVECTL_DIR}:${process.env.PATH ?? ""}`,
      "sh",
    ]);
    return new Cli(
      local.spawn("env", [
        ...(runtimeDir === undefined ? [] : [`XDG_RUNTIME_DIR=${runtimeDir}`, "env"]),
        ...cliInHome(home, [
          "connect",
          `exec:${shellCommand(intoR)}`,
          ...LINK_SUBNET_OPTIONS,
          ...S_ROUTE_OPTIONS,
          "--remote-node",
          process.execPath,
          "--json",
          ...extra,
        ]),
      ]),
    );
  };

  /** Ctrl+C: exit 0 within the contract, and R exactly as before. */
  const disconnectsCleanly = async (cli: Cli): Promise<void> => {
    cli.process.child.kill("SIGINT");
    assert.equal((await cli.process.waitForExit(DISCONNECT_MS)).code, 0, cli.describe());
    assert.equal(await remoteState(remote), before_, `R is exactly as before; events:\n${cli.describe()}`);
  };

  test(
    "before Backhaul, R's resolved answers remote.test from Q, and the decoy for corp.test",
    whenMet(ready, async () => {
      assert.match(
        await resolved!.resolvectl(["dns"]),
        new RegExp(`Global: ${REMOTE_RESOLVER.dns.v4.replaceAll(".", "\\.")}`),
      );
      assert.deepEqual(await digShort(remote, [PUB, "A"]), [REMOTE_RESOLVER.pub]);
      assert.deepEqual(await digShort(remote, [`host.${ZONE}`, "A"]), [REMOTE_RESOLVER.decoy]);
      latency.before = await lookupLatency(remote, PUB);
    }),
  );

  test(
    "--dns split --dns-domain corp.test: resolvectl puts ~corp.test on the TUN; corp.test through the link, the rest from Q",
    whenMet(ready, async () => {
      const cli = connect(["--dns", "split", "--dns-domain", ZONE]);
      try {
        await cli.until("connected", 90_000);
        const lines = cli.events.filter((e) => e.type === "log").map((e) => e.line ?? "");
        const uses = lines
          .map((line) => /sets DNS on (\S+) through systemd-resolved/.exec(line))
          .find(Boolean);
        assert.ok(uses, `the agent says it uses systemd-resolved:\n${lines.join("\n")}`);
        const tun = uses[1]!;
        const domains = await resolved!.resolvectl(["domain", tun]);
        for (const domain of [`~${ZONE}`, `~${REVERSE4}`])
          assert.ok(domains.split(/\s+/).includes(domain), `${domain} on ${tun}: ${domains}`);
        assert.match(domains, /~\S+\.ip6\.arpa/, `an IPv6 reverse zone on ${tun}: ${domains}`);
        // R is on the SSH link's network itself (the agent skips that prefix): its PTRs stay on R.
        assert.doesNotMatch(
          domains,
          /\.1\.18\.198\.in-addr\.arpa/,
          `no zone of the SSH link on ${tun}: ${domains}`,
        );
        assert.match(await resolved!.resolvectl(["default-route", tun]), /: no$/m, "not the default route");
        assert.match(
          readFileSync(join("/etc/netns", remote.name, "resolv.conf"), "utf8"),
          /^nameserver 127\.0\.0\.53$/m,
        );

        // Every type under corp.test, and the PTR: exactly what S answers L.
        await checkSplitDomainOnRemote(remote, local);

        // Names outside: resolved sends them to Q, with the answers only Q has.
        assert.deepEqual(await digShort(remote, [PUB, "A"]), [REMOTE_RESOLVER.pub]);
        assert.deepEqual(await digShort(remote, [`txt.${REMOTE_ZONE}`, "TXT"]), ['"remote only"']);
        latency.split = await lookupLatency(remote, PUB);

        await checkDnsTableHoldsOnlySplit(cli);

        // Ctrl+C: the link goes, and resolved's settings for it with it.
        await disconnectsCleanly(cli);
        const status = await resolved!.resolvectl(["status"]);
        assert.ok(
          !status.includes(tun) && !status.includes(ZONE),
          `no trace of ${tun} in resolved:\n${status}`,
        );
      } finally {
        await cli.process.stop(15_000);
      }
      assert.deepEqual(
        await digShort(remote, [`host.${ZONE}`, "A"]),
        [REMOTE_RESOLVER.decoy],
        "Q answers corp.test again",
      );
    }),
  );

  test(
    "the DNS mode changed while connected (split → all → off): resolved's link settings follow within 15 s; Ctrl+C restores",
    whenMet(ready, async () => {
      const runtimeDir = mkdtempSync(join(tmpdir(), "backhaul-split-resolved-xdg-"));
      const cli = connect(["--dns", "split", "--dns-domain", ZONE], runtimeDir);
      try {
        await cli.until("connected", 90_000);
        const lines = cli.events.filter((e) => e.type === "log").map((e) => e.line ?? "");
        const tun = lines
          .map((line) => /sets DNS on (\S+) through systemd-resolved/.exec(line))
          .find(Boolean)?.[1];
        assert.ok(tun, `the agent uses systemd-resolved:\n${lines.join("\n")}`);
        const [session] = await runningSessions(join(runtimeDir, "backhaul-sessions"));
        assert.ok(session, "the session's control socket");
        // resolved routes names per link itself: no forwarder on R, so no counts, and the session says so.
        const info = await askSession(session, { type: "info" }, 15_000);
        assert.deepEqual(info.type === "info" && info.remoteDns, {
          mode: "split",
          setup: "systemd-resolved",
        });
        const within15s = async (what: string, done: () => Promise<boolean>): Promise<void> => {
          for (let waited = 0; !(await done()); waited += 200) {
            if (waited > 15_000) assert.fail(`not within 15 s: ${what}\n${cli.describe()}`);
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        };
        const linkDomains = async (): Promise<string[]> =>
          (await resolved!.resolvectl(["domain", tun])).split(/\s+/).filter((word) => word.startsWith("~"));

        assert.equal((await askSession(session, { type: "dnsMode", mode: "all" }, 15_000)).type, "done");
        await within15s(`~. alone on ${tun}`, async () => (await linkDomains()).join() === "~.");
        assert.deepEqual(
          await digShort(remote, [`host.${ZONE}`, "A"]),
          [CORP_NET.host.v4],
          "corp.test through the link",
        );

        assert.equal((await askSession(session, { type: "dnsMode", mode: "off" }, 15_000)).type, "done");
        await within15s(`no domain on ${tun}`, async () => (await linkDomains()).length === 0);
        assert.doesNotMatch(await resolved!.resolvectl(["dns", tun]), /198\.18\.0\./, `no server on ${tun}`);
        assert.deepEqual(await digShort(remote, [PUB, "A"]), [REMOTE_RESOLVER.pub], "Q answers");
        assert.deepEqual(
          await digShort(remote, [`host.${ZONE}`, "A"]),
          [REMOTE_RESOLVER.decoy],
          "corp.test from Q",
        );
        assert.ok(
          cli.events.some(
            (e) =>
              e.type === "log" && e.line?.endsWith("dns: now off, the remote's own resolver for every name"),
          ),
        );

        await disconnectsCleanly(cli);
      } finally {
        await cli.process.stop(15_000);
        rmSync(runtimeDir, { recursive: true, force: true });
      }
    }),
  );

  test(
    "the latency of a name outside the domains on R through resolved, before Backhaul and with split DNS (no assertion)",
    whenMet(ready, () => {
      assert.ok(latency.before && latency.split, "both were measured");
      console.log(latencyReport(latency.before, "systemd-resolved", latency.split));
    }),
  );
});
