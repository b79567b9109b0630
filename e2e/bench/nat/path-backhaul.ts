// Path (c): Backhaul's NAT engine without SSH, exactly as the NAT e2e tests build it
// (e2e/nat/topology.ts): R's TUN -> entrance process -> Unix-socket link -> exit process in L -> S.
import { buildNatTopology } from "../../nat/topology.js";
import type { BenchPath } from "./path.js";
import { setVethMtu } from "./private-network.js";
import { LAN } from "../../netns/address-plan.js";

export async function buildBackhaulPath(mtu: number): Promise<BenchPath> {
  const topology = await buildNatTopology({ mtu });
  try {
    // Same egress leg as the other paths: L-S at the MTU under test.
    await setVethMtu(topology.local, mtu);
    await setVethMtu(topology.server, mtu);
    const exitPid = topology.exit.pid;
    const entrancePid = topology.entrance.pid;
    if (exitPid === undefined || entrancePid === undefined) throw new Error("NAT processes have no PID");
    return {
      name: "backhaul",
      mtu,
      remote: topology.remote,
      hosts: { 4: LAN.server.v4, 6: LAN.server.v6 },
      exit: { pid: exitPid, label: "exit (NAT engine)" },
      entrance: { pid: entrancePid, label: "entrance (remote agent)" },
      skipped: {},
      cleanup: () => topology.cleanup(),
    };
  } catch (error) {
    await topology.cleanup();
    throw error;
  }
}
