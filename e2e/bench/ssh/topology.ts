// The namespaces of `npm run bench`, as e2e/cli-ssh.test.ts builds them, plus a root sshd in L
// (addresses: e2e/netns/address-plan.ts):
//
//   R SSH_LINK.remote (TestSshd: bhdev) ── veth ── L SSH_LINK.local (root sshd) ── veth ── S
//   S: LAN.dns dnsmasq (corp.test), CORP_NET.host host.corp.test (HTTP, echo, iperf3)
//
// S routes BENCH.remoteSide back through L, for the paths that forward without NAT (direct,
// ssh -w); L forwards only while such a path is up. R's resolver is S's dnsmasq, as seen from R.
//
// With `farOneWayMs` (ssh-latency.bench.ts --far-ms): S also answers as BENCH.farHost, reached
// through namespace D and its delay line (delay-line.ts), both ways:
//   L ── BENCH.toDelay ── D | D ── BENCH.fromDelay ── S (and BENCH.farHost)
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { attachPrivateNetwork } from "../../fullpath/private-network.js";
import { ChildRpc } from "../../netns/child-rpc.js";
import { BENCH, CORP_NET, LAN, onNetwork } from "../../netns/address-plan.js";
import { NetnsLab, runCommand, type NetworkNamespace } from "../../netns/index.js";
import { TestSshd } from "../../sshd/server.js";
import { startRootSshd, type RootSshd } from "./root-sshd.js";

export const HOST_NAME = "host.corp.test";

export interface BenchTopology {
  sshd: TestSshd;
  rootSshd: RootSshd;
  remote: NetworkNamespace;
  local: NetworkNamespace;
  server: NetworkNamespace;
  /** Our temporary directory: keys, known_hosts, HOME for the clients. */
  dir: string;
  /** Points R's resolver at S again (the Backhaul agent rewrites it while connected). */
  resetRemoteResolver(): Promise<void>;
  /** L forwards between R and S, or not. */
  setLocalForwarding(on: boolean): Promise<void>;
  cleanup(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops, by PID, every process left in `namespace` (all of them ours: we created it). */
export async function stopNamespaceProcesses(namespace: NetworkNamespace): Promise<void> {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    const result = await runCommand("ip", ["netns", "pids", namespace.name]);
    const pids = result.stdout.split(/\s+/).filter(Boolean).map(Number);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    await sleep(500);
  }
}

async function waitForDns(server: NetworkNamespace): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const dig = await server.run("dig", ["+short", "+time=1", "+tries=1", `@${LAN.dns.v4}`, HOST_NAME]);
    if (dig.stdout.trim() === CORP_NET.host.v4) return;
    await sleep(100);
  }
  throw new Error("dnsmasq in S did not answer within 10 s");
}

/** Namespace D between L and S for the far host: every packet waits `oneWayMs` each way. */
async function addFarHost(
  lab: NetnsLab,
  local: NetworkNamespace,
  server: NetworkNamespace,
  oneWayMs: number,
): Promise<void> {
  const delay = await lab.createNamespace("d");
  const { toDelay, fromDelay, farHost } = BENCH;
  const fromL = await lab.addVethPair(local, delay, {
    addressesA: onNetwork(toDelay.network, toDelay.local),
    addressesB: onNetwork(toDelay.network, toDelay.delay),
  });
  const toS = await lab.addVethPair(delay, server, {
    addressesA: onNetwork(fromDelay.network, fromDelay.delay),
    addressesB: [...onNetwork(fromDelay.network, fromDelay.server), `${farHost}/32`],
  });
  await local.ip(["route", "add", `${farHost}/32`, "via", toDelay.delay.v4]);
  // Answers from the far address go back through D (the rest of S's traffic does not).
  await server.ip(["rule", "add", "from", farHost, "lookup", "102"]);
  await server.ip(["route", "add", "default", "via", fromDelay.delay.v4, "table", "102"]);
  for (const setting of ["ip_forward=1", "conf.all.rp_filter=0", "conf.default.rp_filter=0"]) {
    await delay.runChecked("sysctl", ["-qw", `net.ipv4.${setting}`]);
  }
  const line = ChildRpc.start(delay, "e2e/bench/ssh/delay-line.ts", {
    args: ["--one-way-ms", String(oneWayMs)],
  });
  await line.waitFor("ready", (event) => (event.ready === true ? true : undefined));
  for (const device of ["bh-da", "bh-db"]) {
    await delay.runChecked("sysctl", ["-qw", `net.ipv4.conf.${device}.rp_filter=0`]);
  }
  await delay.ip(["route", "add", `${farHost}/32`, "via", fromDelay.server.v4]);
  await delay.ip(["route", "add", BENCH.remoteSide, "via", toDelay.local.v4]);
  // From L into bh-da; out of bh-db into D's kernel, on to S; and back the other way.
  await delay.ip(["rule", "add", "iif", fromL.b, "lookup", "100"]);
  await delay.ip(["route", "add", "default", "dev", "bh-da", "table", "100"]);
  await delay.ip(["rule", "add", "iif", toS.a, "lookup", "101"]);
  await delay.ip(["route", "add", "default", "dev", "bh-db", "table", "101"]);
}

export function buildTopology(options: { farOneWayMs?: number } = {}): Promise<BenchTopology> {
  return NetnsLab.build(async (lab) => {
    const dir = lab.tempDir("backhaul-bench-ssh-");
    const sshd = await TestSshd.start(lab);
    // sshd and its sessions first; then every process left in the namespaces, all ours, by PID.
    lab.onCleanup("first", () => sshd.cleanup());
    lab.onCleanup("first", async () => {
      for (const namespace of lab.createdNamespaces) await stopNamespaceProcesses(namespace);
    });
    const { remote, local } = sshd;
    // The agent's TUN gets a v6 link address: no duplicate address detection delay.
    await remote.runChecked("sysctl", ["-qw", "net.ipv6.conf.all.accept_dad=0"]);
    // Before anything else runs in L: the CLI and sshuttle's server resolve through S.
    await writeFile(join("/etc/netns", local.name, "resolv.conf"), `nameserver ${LAN.dns.v4}\n`);
    const resetRemoteResolver = (): Promise<void> =>
      writeFile(join("/etc/netns", remote.name, "resolv.conf"), `nameserver ${LAN.dns.v4}\n`);
    await resetRemoteResolver();
    const server = await attachPrivateNetwork(lab, local, dir);
    await server.ip(["route", "add", BENCH.remoteSide, "via", LAN.local.v4]);
    if (options.farOneWayMs !== undefined) await addFarHost(lab, local, server, options.farOneWayMs);
    await waitForDns(server);
    const rootSshd = await startRootSshd(local, dir);
    const setLocalForwarding = async (on: boolean): Promise<void> => {
      await local.runChecked("sysctl", ["-qw", `net.ipv4.ip_forward=${on ? 1 : 0}`]);
    };
    await setLocalForwarding(false);
    return {
      sshd,
      rootSshd,
      remote,
      local,
      server,
      dir,
      resetRemoteResolver,
      setLocalForwarding,
      cleanup: () => lab.cleanup(),
    };
  });
}
