// The L — S veth pair of the address plan (address-plan.ts): L at LAN.local and S at its roles on
// the LAN, and with `corp`, both on CORP_NET too (L at CORP_NET.local, S as host.corp.test).
import { CORP_NET, LAN, onNetwork, type Host } from "./address-plan.js";
import type { NetnsLab } from "./lab.js";
import type { NetworkNamespace } from "./namespace.js";

export interface LanVethOptions {
  /** S's addresses on the LAN; default LAN.server. */
  server?: readonly Host[];
  /** Also CORP_NET, where S is host.corp.test. */
  corp?: boolean;
  /** Interface names in L and in S, as NetnsLab.addVethPair takes them. */
  names?: { local: string; server: string };
}

export function addLanVeth(
  lab: NetnsLab,
  local: NetworkNamespace,
  server: NetworkNamespace,
  options: LanVethOptions = {},
): Promise<{ a: string; b: string }> {
  return lab.addVethPair(local, server, {
    nameA: options.names?.local,
    nameB: options.names?.server,
    addressesA: [
      ...onNetwork(LAN.network, LAN.local),
      ...(options.corp ? onNetwork(CORP_NET.network, CORP_NET.local) : []),
    ],
    addressesB: [
      ...onNetwork(LAN.network, ...(options.server ?? [LAN.server])),
      ...(options.corp ? onNetwork(CORP_NET.network, CORP_NET.host) : []),
    ],
  });
}
