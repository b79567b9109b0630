/**
 * The hostile remote's world: namespace L runs the real local helper (dist/helper-local.mjs, as
 * main starts it) and holds "this computer's" addresses of every kind and routes that fail in
 * every way; namespace S is the private network behind it. The test itself plays main (a link
 * connection and its control connection, as helper-exit.ts opens them) and the agent (a Link in
 * the entrance role), so every packet the fuzzer writes reaches the exit as an agent's would.
 *
 *   L: veth at LAN.local (to S); bh-own at HOSTILE_REMOTE.own.local; bh-dock at
 *      HOSTILE_REMOTE.dock.local, up without carrier (docker0 with no containers);
 *      routes: prohibit, unreachable, blackhole, and "dropped" via S, which drops it (HOSTILE_REMOTE);
 *      no route to HOSTILE_REMOTE.noRoute; services on every address (a leak answers instead of
 *      refusing)
 *   S: veth at LAN.server: HTTP, TCP and UDP echo (e2e/nat/servers.ts)
 * (addresses: e2e/netns/address-plan.ts)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "node:net";
import { Link } from "../../src/helper/engines/link/link.js";
import { openHelperLink } from "../../src/main/broker/helper/helper-client.js";
import { Capability } from "../../src/shared/link-protocol.js";
import type { FlowProtocol } from "../../src/shared/flow-row.js";
import type { HelperExitOptions } from "../../src/shared/helper-protocol.js";
import { VERSION } from "../../src/shared/version.js";
import { startHelperIn } from "../local-helper/built.js";
import { watchHelperControl } from "../local-helper/control.js";
import { startServers } from "../nat/start-servers.js";
import { ADVERTISED, HOSTILE_REMOTE, LAN, LINK_SUBNET, onNetwork, prefixes } from "../netns/address-plan.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";
import { addLanVeth } from "../netns/lan-veth.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const HELPER = join(ROOT, "dist/helper-local.mjs");

export const LINK_OPTIONS: HelperExitOptions = {
  mtu: 65520,
  subnetV4: LINK_SUBNET.network.v4,
  subnetV6: LINK_SUBNET.network.v6,
  routes: prefixes(ADVERTISED),
  allowLocal: false,
  dns: "all",
  keepaliveIntervalMs: 0,
  pingTimeoutMs: 10_000,
};

export interface HostileLab {
  lab: NetnsLab;
  local: NetworkNamespace;
  server: NetworkNamespace;
  helper: ManagedProcess;
  helperPid: number;
  /** The agent's end of the link. */
  link: Link;
  control: Socket;
  /** Flows open now by protocol, from the NAT table the helper streams to main. */
  openFlows(): Record<FlowProtocol, number>;
  /**
   * Resolves when main's view of the NAT table holds a row from `remote` ("address:port"): the
   * view has then caught up with everything the helper published before that row.
   */
  flowFrom(remote: string): Promise<void>;
  /** The helper's stderr so far (its log). */
  helperLog(): string;
  /** VmRSS or VmHWM (peak) of the helper, in bytes. */
  helperMemory(field: "VmRSS" | "VmHWM"): number;
  cleanup(): Promise<void>;
}

export function buildHostileLab(): Promise<HostileLab> {
  return NetnsLab.build(async (lab) => {
    const local = await lab.createNamespace("l");
    const server = await lab.createNamespace("s");
    await addLanVeth(lab, local, server);
    // A second interface (a veth pair inside L: this kernel may lack the dummy driver), and one
    // up without carrier (its peer down), as docker0 is with no containers.
    const { own, dock } = HOSTILE_REMOTE;
    await local.addInnerInterface("bh-own", onNetwork(own.network, own.local), { carrier: true });
    await local.addInnerInterface("bh-dock", onNetwork(dock.network, dock.local), { carrier: false });
    for (const type of ["prohibit", "unreachable", "blackhole"] as const) {
      await local.ip(["route", "add", type, HOSTILE_REMOTE[type].v4]);
      await local.ip(["-6", "route", "add", type, HOSTILE_REMOTE[type].v6]);
    }
    // Routed through S, which does not forward: every packet dropped without a word.
    await local.ip(["route", "add", HOSTILE_REMOTE.dropped.v4, "via", LAN.server.v4]);
    await local.ip(["-6", "route", "add", HOSTILE_REMOTE.dropped.v6, "via", LAN.server.v6]);

    await startServers(server);
    await startServers(local);

    const { helper, endpoint, log } = await startHelperIn(lab, local);
    const helperPid = helper.pid;
    if (helperPid === undefined) throw new Error("the helper has no pid");

    const opened = await openHelperLink(endpoint, LINK_OPTIONS);
    const link = new Link(opened.socket, {
      role: "entrance",
      softwareVersion: VERSION,
      capabilities: Capability.Ipv6 | Capability.DnsStub | Capability.IcmpEcho | Capability.Stats,
      // Generous: the fuzzer may hold the link queue full for a while.
      maxQueuedBytes: 64 * 1024 * 1024,
    });
    opened.socket.resume();
    // The NAT table as main sees it: which flows are open, by protocol.
    const openFlows = new Map<number, FlowProtocol>();
    const awaitedRemotes = new Map<string, () => void>();
    const control = await watchHelperControl(endpoint, opened.linkId, (event) => {
      if (event.type !== "flows") return;
      for (const row of event.delta.upserts) {
        const awaited = awaitedRemotes.get(row.remote);
        if (awaited) {
          awaitedRemotes.delete(row.remote);
          awaited();
        }
        if (row.closedAt === null) openFlows.set(row.id, row.protocol);
        else openFlows.delete(row.id);
      }
      for (const id of event.delta.removals) openFlows.delete(id);
    });
    lab.onCleanup("first", () => control.destroy());
    await link.ready;

    return {
      lab,
      local,
      server,
      helper,
      helperPid,
      link,
      control,
      helperLog: log,
      openFlows: () => {
        const counts = { tcp: 0, udp: 0, icmp: 0 };
        for (const protocol of openFlows.values()) counts[protocol]++;
        return counts;
      },
      flowFrom: (remote) => new Promise((resolve) => awaitedRemotes.set(remote, resolve)),
      helperMemory: (field) => {
        const status = readFileSync(`/proc/${helperPid}/status`, "utf8");
        const match = new RegExp(`^${field}:\\s*(\\d+) kB$`, "m").exec(status);
        if (!match) throw new Error(`no ${field} in /proc/${helperPid}/status`);
        return Number(match[1]) * 1024;
      },
      cleanup: () => lab.cleanup(),
    };
  });
}
