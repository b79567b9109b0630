// The test body frame of the suites that load the native addon in namespaces of their own (TUN,
// ICMP, the agent's cleanup): skipped, saying why, where namespaces or tools are missing; else the
// addon built and a lab that is removed after the test, even when it fails.
import type { TestContext } from "node:test";
import { NetnsLab } from "./lab.js";
import type { NetworkNamespace } from "./namespace.js";
import { buildNativeAddon } from "./native-addon.js";
import { netnsSkipReason, whenMet, type NetnsRequirements } from "./preconditions.js";

export function inAddonLab(
  requirements: NetnsRequirements,
  body: (lab: NetnsLab, t: TestContext) => Promise<void>,
): (t: TestContext) => Promise<void> {
  return whenMet(
    () => netnsSkipReason(requirements),
    async (t) => {
      buildNativeAddon();
      const lab = new NetnsLab();
      t.after(() => lab.cleanup());
      await body(lab, t);
    },
  );
}

/**
 * The namespace `role` with `resolvConf`, its eth0 at `addresses` on a veth to a namespace "lan" at
 * `lanAddresses`. No duplicate address detection: addresses are final at once, so snapshots of its
 * network are stable.
 */
export async function namespaceOnLan(
  lab: NetnsLab,
  role: string,
  resolvConf: string,
  addresses: { own: string[]; lan: string[] },
): Promise<NetworkNamespace> {
  const ns = await lab.createNamespace(role, { resolvConf });
  await ns.runChecked("sysctl", [
    "-qw",
    "net.ipv6.conf.all.accept_dad=0",
    "net.ipv6.conf.default.accept_dad=0",
  ]);
  const lan = await lab.createNamespace("lan");
  await lab.addVethPair(ns, lan, { nameA: "eth0", addressesA: addresses.own, addressesB: addresses.lan });
  return ns;
}
