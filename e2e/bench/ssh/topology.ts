// The namespaces of `npm run bench`, as e2e/cli-ssh.test.ts builds them, plus a root sshd in L:
//
//   R 198.18.1.1 (TestSshd: bhdev) ── veth ── L 198.18.1.2 (root sshd) ── veth ── S
//   S: 198.19.0.53 dnsmasq (corp.test), 198.19.1.10 host.corp.test (HTTP :80, echo :7, iperf3)
//
// S routes 198.18.0.0/15 back through L, for the paths that forward without NAT (direct, ssh -w);
// L forwards only while such a path is up. R's resolver is S's dnsmasq, as seen from R.
//
// With `farOneWayMs` (ssh-latency.bench.ts --far-ms): S also answers as 198.19.2.10, the far
// host, reached through namespace D and its delay line (delay-line.ts), both ways:
//   L 198.18.3.1 ── D 198.18.3.2 | 198.18.4.1 ── S 198.18.4.2, 198.19.2.10
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dnsmasqConfig, SERVER_V4 } from "../../dns/zone.js";
import { waitForLine } from "../../nat/topology.js";
import { NetnsLab, runCommand, type NetworkNamespace } from "../../netns/index.js";
import { TestSshd } from "../../sshd/server.js";
import { startRootSshd, type RootSshd } from "./root-sshd.js";

export const HOST = "198.19.1.10";
export const HOST_NAME = "host.corp.test";
export const DNS_SERVER = SERVER_V4;
/** S's address behind the delay line, when the topology has one. */
export const FAR_HOST = "198.19.2.10";
/** L's address on S's network: S's way back to 198.18.0.0/15. */
const L_ON_S = "198.19.0.1";
const ROOT = new URL("../../..", import.meta.url).pathname;

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
    const dig = await server.run("dig", [
      "+short",
      "+time=1",
      "+tries=1",
      `@${DNS_SERVER}`,
      "host.corp.test",
    ]);
    if (dig.stdout.trim() === HOST) return;
    await sleep(100);
  }
  throw new Error("dnsmasq in S did not answer within 10 s");
}

async function startServices(server: NetworkNamespace, dir: string): Promise<void> {
  const config = join(dir, "dnsmasq.conf");
  await writeFile(config, dnsmasqConfig());
  server.spawn("dnsmasq", [
    "--no-daemon",
    `--conf-file=${config}`,
    ...["--no-resolv", "--no-hosts", `--listen-address=${DNS_SERVER}`, "--bind-interfaces"],
    ...["--pid-file=", "--user=root"],
  ]);
  server.spawn("iperf3", ["-s"]);
  const services = server.spawn(process.execPath, ["--import", "tsx", "e2e/nat/servers.ts"], { cwd: ROOT });
  await waitForLine(services, (v) => (v.ready ? true : undefined));
  await waitForDns(server);
}

/** Namespace D between L and S for the far host: every packet waits `oneWayMs` each way. */
async function addFarHost(
  lab: NetnsLab,
  local: NetworkNamespace,
  server: NetworkNamespace,
  oneWayMs: number,
): Promise<void> {
  const delay = await lab.createNamespace("d");
  const fromL = await lab.addVethPair(local, delay, {
    addressesA: ["198.18.3.1/30"],
    addressesB: ["198.18.3.2/30"],
  });
  const toS = await lab.addVethPair(delay, server, {
    addressesA: ["198.18.4.1/30"],
    addressesB: ["198.18.4.2/30", `${FAR_HOST}/32`],
  });
  await local.ip(["route", "add", `${FAR_HOST}/32`, "via", "198.18.3.2"]);
  // Answers from the far address go back through D (the rest of S's traffic does not).
  await server.ip(["rule", "add", "from", FAR_HOST, "lookup", "102"]);
  await server.ip(["route", "add", "default", "via", "198.18.4.1", "table", "102"]);
  for (const setting of ["ip_forward=1", "conf.all.rp_filter=0", "conf.default.rp_filter=0"]) {
    await delay.runChecked("sysctl", ["-qw", `net.ipv4.${setting}`]);
  }
  const line = delay.spawn(
    process.execPath,
    ["--import", "tsx", "e2e/bench/ssh/delay-line.ts", "--one-way-ms", String(oneWayMs)],
    { cwd: ROOT },
  );
  await waitForLine(line, (v) => (v.ready ? true : undefined));
  for (const device of ["bh-da", "bh-db"]) {
    await delay.runChecked("sysctl", ["-qw", `net.ipv4.conf.${device}.rp_filter=0`]);
  }
  await delay.ip(["route", "add", `${FAR_HOST}/32`, "via", "198.18.4.2"]);
  await delay.ip(["route", "add", "198.18.0.0/15", "via", "198.18.3.1"]);
  // From L into bh-da; out of bh-db into D's kernel, on to S; and back the other way.
  await delay.ip(["rule", "add", "iif", fromL.b, "lookup", "100"]);
  await delay.ip(["route", "add", "default", "dev", "bh-da", "table", "100"]);
  await delay.ip(["rule", "add", "iif", toS.a, "lookup", "101"]);
  await delay.ip(["route", "add", "default", "dev", "bh-db", "table", "101"]);
}

export async function buildTopology(options: { farOneWayMs?: number } = {}): Promise<BenchTopology> {
  const lab = new NetnsLab();
  const dir = await mkdtemp(join(tmpdir(), "backhaul-bench-ssh-"));
  let sshd: TestSshd | undefined;
  const cleanup = async (): Promise<void> => {
    try {
      await sshd?.cleanup(); // stops sshd and every session process in R, by PID
      for (const namespace of lab.createdNamespaces) await stopNamespaceProcesses(namespace);
      await lab.cleanup();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    sshd = await TestSshd.start(lab);
    const { remote, local } = sshd;
    const server = await lab.createNamespace("s");
    // The agent's TUN gets a v6 link address: no duplicate address detection delay.
    await remote.runChecked("sysctl", ["-qw", "net.ipv6.conf.all.accept_dad=0"]);
    await lab.addVethPair(local, server, {
      addressesA: [`${L_ON_S}/24`, "198.19.1.1/24"],
      addressesB: [`${DNS_SERVER}/24`, `${HOST}/24`],
    });
    await server.ip(["route", "add", "198.18.0.0/15", "via", L_ON_S]);
    if (options.farOneWayMs !== undefined) await addFarHost(lab, local, server, options.farOneWayMs);
    // Before anything else runs in L: the CLI and sshuttle's server resolve through S.
    await writeFile(join("/etc/netns", local.name, "resolv.conf"), `nameserver ${DNS_SERVER}\n`);
    const resetRemoteResolver = (): Promise<void> =>
      writeFile(join("/etc/netns", remote.name, "resolv.conf"), `nameserver ${DNS_SERVER}\n`);
    await resetRemoteResolver();
    await startServices(server, dir);
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
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
