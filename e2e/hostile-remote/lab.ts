/**
 * The hostile remote's world: namespace L runs the real local helper (dist/helper-local.mjs, as
 * main starts it) and holds "this computer's" addresses of every kind and routes that fail in
 * every way; namespace S is the private network behind it. The test itself plays main (a link
 * connection and its control connection, as helper-exit.ts opens them) and the agent (a Link in
 * the entrance role), so every packet the fuzzer writes reaches the exit as an agent's would.
 *
 *   L: veth 198.19.0.1/24 2001:db8:19::1/64 (to S); bh-own 198.19.50.1/24 2001:db8:19:50::1/64;
 *      bh-dock 198.19.60.1/24 up without carrier (docker0 with no containers);
 *      routes: prohibit .202, unreachable .203, blackhole .204 (and 2001:db8:19:20x::/64), .205
 *      via S, which drops it; no route to 198.19.200.0/24; services on every address (a leak
 *      answers instead of refusing)
 *   S: veth 198.19.0.10/24 2001:db8:19::10/64: HTTP :80, TCP and UDP echo :7 (e2e/nat/servers.ts)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "node:net";
import { splitLines } from "../../src/helper/line-socket.js";
import { Link } from "../../src/helper/link/link.js";
import { attachHelperControl, openHelperLink } from "../../src/main/broker/helper/helper-client.js";
import { Capability } from "../../src/shared/link-protocol.js";
import type { FlowProtocol } from "../../src/shared/flow-row.js";
import { MAX_HELPER_LINE, parseEvent, type HelperExitOptions } from "../../src/shared/helper-protocol.js";
import { VERSION } from "../../src/shared/version.js";
import { startHelperIn } from "../local-helper/built.js";
import { waitForLine } from "../nat/topology.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const HELPER = join(ROOT, "dist/helper-local.mjs");

export const LINK_OPTIONS: HelperExitOptions = {
  mtu: 65520,
  subnetV4: "198.18.0.0/30",
  subnetV6: "2001:db8:1::/64",
  routes: ["198.19.0.0/16", "2001:db8:19::/48"],
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

export async function buildHostileLab(): Promise<HostileLab> {
  const lab = new NetnsLab();
  const controlDir = mkdtempSync(join(tmpdir(), "backhaul-hostile-"));
  let control: Socket | undefined;
  const cleanup = async (): Promise<void> => {
    control?.destroy();
    try {
      await lab.cleanup();
    } finally {
      rmSync(controlDir, { recursive: true, force: true });
    }
  };
  try {
    const local = await lab.createNamespace("l");
    const server = await lab.createNamespace("s");
    await lab.addVethPair(local, server, {
      addressesA: ["198.19.0.1/24", "2001:db8:19::1/64"],
      addressesB: ["198.19.0.10/24", "2001:db8:19::10/64"],
    });
    // A second interface (a veth pair inside L: this kernel may lack the dummy driver), and one
    // up without carrier (its peer down), as docker0 is with no containers.
    await local.ip(["link", "add", "bh-own", "type", "veth", "peer", "name", "bh-own-peer"]);
    await local.ip(["addr", "add", "198.19.50.1/24", "dev", "bh-own"]);
    await local.ip(["-6", "addr", "add", "2001:db8:19:50::1/64", "dev", "bh-own", "nodad"]);
    await local.ip(["link", "set", "bh-own-peer", "up"]);
    await local.ip(["link", "set", "bh-own", "up"]);
    await local.ip(["link", "add", "bh-dock", "type", "veth", "peer", "name", "bh-dock-peer"]);
    await local.ip(["addr", "add", "198.19.60.1/24", "dev", "bh-dock"]);
    await local.ip(["link", "set", "bh-dock", "up"]);
    for (const [type, v4, v6] of [
      ["prohibit", "198.19.202.0/24", "2001:db8:19:202::/64"],
      ["unreachable", "198.19.203.0/24", "2001:db8:19:203::/64"],
      ["blackhole", "198.19.204.0/24", "2001:db8:19:204::/64"],
    ] as const) {
      await local.ip(["route", "add", type, v4]);
      await local.ip(["-6", "route", "add", type, v6]);
    }
    // Routed through S, which does not forward: every packet dropped without a word.
    await local.ip(["route", "add", "198.19.205.0/24", "via", "198.19.0.10"]);
    await local.ip(["-6", "route", "add", "2001:db8:19:205::/64", "via", "2001:db8:19::10"]);

    const servers = ["--import", "tsx", join(ROOT, "e2e/nat/servers.ts")];
    await waitForLine(server.spawn(process.execPath, servers, { cwd: ROOT }), (v) => v.ready || undefined);
    await waitForLine(local.spawn(process.execPath, servers, { cwd: ROOT }), (v) => v.ready || undefined);

    const { helper, endpoint, log } = await startHelperIn(local, controlDir);
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
    control = await attachHelperControl(endpoint, opened.linkId);
    // The NAT table as main sees it: which flows are open, by protocol.
    const openFlows = new Map<number, FlowProtocol>();
    const awaitedRemotes = new Map<string, () => void>();
    splitLines(
      control,
      MAX_HELPER_LINE,
      (line) => {
        const event = parseEvent(line);
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
      },
      () => {
        throw new Error("the helper sent a control line over MAX_HELPER_LINE");
      },
    );
    control.resume();
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
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
