/**
 * The world of e2e/exit-hostile.test.ts: namespace L runs the real local helper
 * (dist/helper-local.mjs, started as the supervisor starts it) and the test plays main (its relay,
 * helper-exit.ts) and the agent (a Link in the entrance role that writes packets itself).
 *
 *   L: veth at EXIT_HOSTILE.lan.local to S (an advertised LAN, with its broadcast);
 *      d77 at EXIT_HOSTILE.noCarrier.local, up without carrier (its peer is down: docker0 with
 *      no containers), IPv6 forwarding on so the kernel holds the subnet-router anycast;
 *      no route at all to EXIT_HOSTILE.noRoute (connect: ENETUNREACH);
 *      a witness on port WITNESS_PORT, every address.
 *   S: veth at EXIT_HOSTILE.lan.server: TCP and UDP echo (e2e/nat/servers.ts).
 * (addresses: e2e/netns/address-plan.ts)
 */
import { join } from "node:path";
import { Link } from "../../src/helper/engines/link/link.js";
import { createMemoryPipe } from "../../src/helper/engines/link/memory-pipe.js";
import type { ExitHandle } from "../../src/main/broker/exit-handle.js";
import { helperExit } from "../../src/main/broker/helper/helper-exit.js";
import { Capability } from "../../src/shared/link-protocol.js";
import type { HelperExitOptions } from "../../src/shared/helper-protocol.js";
import { VERSION } from "../../src/shared/version.js";
import { startHelperIn } from "../local-helper/built.js";
import { startServers } from "../nat/start-servers.js";
import { EXIT_HOSTILE, LINK_SUBNET, onNetwork, prefixes } from "../netns/address-plan.js";
import { ChildRpc } from "../netns/child-rpc.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const HELPER = join(ROOT, "dist/helper-local.mjs");
export const WITNESS_PORT = 7777;

const { lan, noCarrier, noRoute } = EXIT_HOSTILE;

/** The addresses the test writes packets to and from, by what they are. */
export const ADDRESSES = {
  server4: lan.server.v4,
  server6: lan.server.v6,
  lanBroadcast: lan.broadcast,
  noCarrier4: noCarrier.local.v4,
  noCarrier6: noCarrier.local.v6,
  noCarrierAnycast: noCarrier.anycast,
  noRoute4: noRoute.host.v4,
  noRoute6: noRoute.host.v6,
  /** The agent's addresses on the link subnets below. */
  remote4: LINK_SUBNET.remote.v4,
  remote6: LINK_SUBNET.remote.v6,
} as const;

const LINK_OPTIONS: HelperExitOptions = {
  mtu: 1500,
  subnetV4: LINK_SUBNET.network.v4,
  subnetV6: LINK_SUBNET.network.v6,
  routes: [lan.network, noCarrier.network, noRoute.network].flatMap(prefixes),
  allowLocal: false,
  dns: "off",
  keepaliveIntervalMs: 0,
  pingTimeoutMs: 10_000,
};

export interface ExitHostileLab {
  local: NetworkNamespace;
  helper: ManagedProcess;
  /** The agent's end of the link: packets written here reach the helper's NAT engine. */
  link: Link;
  exit: ExitHandle;
  /** What the witness in L has seen: any entry is a flow that reached this computer. */
  witnessed: Array<Record<string, unknown>>;
  helperLog(): string;
  /** Why the helper is gone (its exit and log), or undefined while it runs. */
  helperDied(): string | undefined;
  cleanup(): Promise<void>;
}

export function buildExitHostileLab(): Promise<ExitHostileLab> {
  return NetnsLab.build(async (lab) => {
    const local = await lab.createNamespace("l");
    const server = await lab.createNamespace("s");
    await lab.addVethPair(local, server, {
      addressesA: onNetwork(lan.network, lan.local),
      addressesB: onNetwork(lan.network, lan.server),
    });
    // Forwarding first: the kernel adds a prefix's subnet-router anycast only on a router.
    for (const scope of ["all", "default"]) {
      await local.runChecked("sysctl", ["-qw", `net.ipv6.conf.${scope}.forwarding=1`]);
    }
    await local.addInnerInterface("d77", onNetwork(noCarrier.network, noCarrier.local), { carrier: false });

    await startServers(server);
    const witness = ChildRpc.start(local, "e2e/exit-hostile/witness.ts", {
      args: ["--port", String(WITNESS_PORT)],
      name: "the witness",
    });
    const witnessed: Array<Record<string, unknown>> = [];
    witness.onEvent((event) => event.ready === undefined && witnessed.push(event));
    await witness.waitFor("ready", (event) => (event.ready === true ? true : undefined));

    const { helper, endpoint, log } = await startHelperIn(lab, local);

    // main's relay (helper-exit.ts) between the agent's stream and the helper.
    const [agentSide, mainSide] = createMemoryPipe();
    const link = new Link(agentSide, {
      role: "entrance",
      softwareVersion: VERSION,
      capabilities: Capability.Ipv6 | Capability.IcmpEcho | Capability.Stats,
    });
    lab.onCleanup("first", () => link.close("test over"));
    const exit = await helperExit(() => Promise.resolve(endpoint)).open(mainSide, LINK_OPTIONS);
    await Promise.all([exit.ready, link.ready]);
    let exitInfo: string | undefined;
    void helper.exited.then((info) => (exitInfo = `the helper exited (${info.code ?? info.signal})`));
    const helperDied = (): string | undefined => (exitInfo ? `${exitInfo}; its log:\n${log()}` : undefined);
    return {
      local,
      helper,
      link,
      exit,
      witnessed,
      helperLog: log,
      helperDied,
      cleanup: () => lab.cleanup(),
    };
  });
}
