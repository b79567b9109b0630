// Path (b): slirp4netns (libslirp), a userspace NAT like Backhaul's. It runs in L and serves a
// tap0 in R: R 198.18.2.100/24, gateway 198.18.2.2 (--cidr network + 2), and its sockets in L
// reach S as 198.19.0.1. No IPv6: slirp4netns 1.2 fixes its IPv6 prefix at fd00::/64, outside the
// 2001:db8::/32 this project may use, and has no flag to change it.
import { setTimeout as sleep } from "node:timers/promises";
import { findOnPath, NetnsLab, type NetworkNamespace } from "../../netns/index.js";
import type { BenchPath } from "./path.js";
import { buildPrivateNetwork } from "./private-network.js";
import { ADVERTISED, BENCH, LAN } from "../../netns/address-plan.js";

const { network: CIDR, gateway: GATEWAY } = BENCH.slirp;

/** Why the slirp4netns path cannot run, with how to fix it, or undefined. */
export function slirpSkipReason(): string | undefined {
  if (findOnPath("slirp4netns")) return undefined;
  return "slirp4netns is not installed: `sudo apt-get install slirp4netns` (Debian/Ubuntu)";
}

async function waitForDefaultRoute(
  remote: NetworkNamespace,
  failed: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const why = failed();
    if (why) throw new Error(why);
    const routes = await remote.ip(["-4", "route", "show", "default"]);
    if (routes.stdout.includes(GATEWAY)) return;
    await sleep(50);
  }
  throw new Error("slirp4netns did not configure tap0 in R within 10 s");
}

export async function buildSlirpPath(mtu: number): Promise<BenchPath> {
  const lab = new NetnsLab();
  try {
    const remote = await lab.createNamespace("r");
    const { local } = await buildPrivateNetwork(lab, mtu);
    // R by its /run/netns path, not by the PID of a process in it: a PID read before
    // `ip netns exec` has entered R would point slirp4netns at this machine's own namespace.
    const slirp = local.spawn("slirp4netns", [
      "--configure",
      `--mtu=${Math.min(mtu, 65521)}`,
      `--cidr=${CIDR}`,
      "--disable-host-loopback",
      "--disable-dns",
      "--netns-type=path",
      `/run/netns/${remote.name}`,
      "tap0",
    ]);
    let stderr = "";
    slirp.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForDefaultRoute(remote, () =>
      slirp.hasExited ? `slirp4netns exited: ${stderr.trim()}` : undefined,
    );
    // Only S's network through slirp, as the other paths route it, not everything.
    await remote.ip(["route", "del", "default"]);
    await remote.ip(["route", "add", ADVERTISED.v4, "via", GATEWAY]);
    if (slirp.pid === undefined) throw new Error("slirp4netns has no PID");
    return {
      name: "slirp4netns",
      mtu,
      remote,
      hosts: { 4: LAN.server.v4 },
      exit: { pid: slirp.pid, label: "slirp4netns" },
      skipped: { 6: "slirp4netns fixes IPv6 at fd00::/64 (only 2001:db8::/32 allowed here)" },
      cleanup: () => lab.cleanup(),
    };
  } catch (error) {
    await lab.cleanup();
    throw error;
  }
}
