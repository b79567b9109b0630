// Path (a): the kernel forwards. R — veth (BENCH.kernelLink) — L (forwarding on, inside L only) —
// veth — S, with routes both ways; no NAT, no userspace process.
import { NetnsLab } from "../../netns/index.js";
import type { BenchPath } from "./path.js";
import { buildPrivateNetwork, setVethMtu } from "./private-network.js";
import { ADVERTISED, BENCH, LAN, onNetwork } from "../../netns/address-plan.js";

const { kernelLink } = BENCH;

export async function buildKernelPath(mtu: number): Promise<BenchPath> {
  const lab = new NetnsLab();
  try {
    const remote = await lab.createNamespace("r");
    const { local, server } = await buildPrivateNetwork(lab, mtu);
    await lab.addVethPair(remote, local, {
      nameA: "veth-l",
      nameB: "veth-r",
      addressesA: onNetwork(kernelLink.network, kernelLink.remote),
      addressesB: onNetwork(kernelLink.network, kernelLink.local),
    });
    await setVethMtu(remote, mtu);
    await setVethMtu(local, mtu);
    // `ip netns exec`: these sysctls are per namespace, so only L's change.
    for (const setting of ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]) {
      await local.runChecked("sysctl", ["-w", setting], { timeoutMs: 5_000 });
    }
    await remote.ip(["route", "add", ADVERTISED.v4, "via", kernelLink.local.v4]);
    await remote.ip(["-6", "route", "add", ADVERTISED.v6, "via", kernelLink.local.v6]);
    await server.ip(["route", "add", BENCH.remoteSide, "via", LAN.local.v4]);
    await server.ip(["-6", "route", "add", kernelLink.network.v6, "via", LAN.local.v6]);
    return {
      name: "kernel",
      mtu,
      remote,
      hosts: { 4: LAN.server.v4, 6: LAN.server.v6 },
      skipped: {},
      cleanup: () => lab.cleanup(),
    };
  } catch (error) {
    await lab.cleanup();
    throw error;
  }
}
