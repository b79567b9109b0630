// Path (a): the kernel forwards. R 198.18.3.1/30 + 2001:db8:3::1/64 — veth — L (forwarding on,
// inside L only) — veth — S, with routes both ways; no NAT, no userspace process.
import { NetnsLab } from "../../netns/index.js";
import { L4, L6, S4, S6 } from "../../nat/topology.js";
import type { BenchPath } from "./path.js";
import { buildPrivateNetwork, setVethMtu } from "./private-network.js";

export async function buildKernelPath(mtu: number): Promise<BenchPath> {
  const lab = new NetnsLab();
  try {
    const remote = await lab.createNamespace("r");
    const { local, server } = await buildPrivateNetwork(lab, mtu);
    await lab.addVethPair(remote, local, {
      nameA: "veth-l",
      nameB: "veth-r",
      addressesA: ["198.18.3.1/30", "2001:db8:3::1/64"],
      addressesB: ["198.18.3.2/30", "2001:db8:3::2/64"],
    });
    await setVethMtu(remote, mtu);
    await setVethMtu(local, mtu);
    // `ip netns exec`: these sysctls are per namespace, so only L's change.
    for (const setting of ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]) {
      await local.runChecked("sysctl", ["-w", setting], { timeoutMs: 5_000 });
    }
    await remote.ip(["route", "add", "198.19.0.0/16", "via", "198.18.3.2"]);
    await remote.ip(["-6", "route", "add", "2001:db8:19::/48", "via", "2001:db8:3::2"]);
    await server.ip(["route", "add", "198.18.0.0/15", "via", L4]);
    await server.ip(["-6", "route", "add", "2001:db8:3::/64", "via", L6]);
    return {
      name: "kernel",
      mtu,
      remote,
      hosts: { 4: S4, 6: S6 },
      skipped: {},
      cleanup: () => lab.cleanup(),
    };
  } catch (error) {
    await lab.cleanup();
    throw error;
  }
}
