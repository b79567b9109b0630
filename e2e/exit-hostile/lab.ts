/**
 * The world of e2e/exit-hostile.test.ts: namespace L runs the real local helper
 * (dist/helper-local.mjs, started as the supervisor starts it) and the test plays main (its relay,
 * helper-exit.ts) and the agent (a Link in the entrance role that writes packets itself).
 *
 *   L: veth 198.19.200.1/24 2001:db8:200::1/64 to S (an advertised LAN, its broadcast .255);
 *      d77 198.18.77.1/24 2001:db8:77::1/64, up without carrier (its peer is down: docker0 with
 *      no containers), IPv6 forwarding on so the kernel holds the subnet-router anycast
 *      2001:db8:77::; no route at all to 198.19.99.0/24 or 2001:db8:99::/64 (connect: ENETUNREACH);
 *      a witness on port WITNESS_PORT, every address.
 *   S: veth 198.19.200.10/24 2001:db8:200::10/64: TCP and UDP echo on port 7 (e2e/nat/servers.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Link } from "../../src/helper/link/link.js";
import { createMemoryPipe } from "../../src/helper/link/memory-pipe.js";
import type { ExitHandle } from "../../src/main/broker/exit-handle.js";
import { helperExit } from "../../src/main/broker/helper/helper-exit.js";
import { Capability } from "../../src/shared/link-protocol.js";
import type { HelperExitOptions } from "../../src/shared/helper-protocol.js";
import { VERSION } from "../../src/shared/version.js";
import { startHelperIn } from "../local-helper/built.js";
import { waitForLine } from "../nat/topology.js";
import { readJsonLines } from "../netns/json-lines.js";
import { NetnsLab, type ManagedProcess, type NetworkNamespace } from "../netns/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const HELPER = join(ROOT, "dist/helper-local.mjs");
export const WITNESS_PORT = 7777;

export const ADDRESSES = {
  server4: "198.19.200.10",
  server6: "2001:db8:200::10",
  lanBroadcast: "198.19.200.255",
  noCarrier4: "198.18.77.1",
  noCarrier6: "2001:db8:77::1",
  noCarrierAnycast: "2001:db8:77::",
  noRoute4: "198.19.99.1",
  noRoute6: "2001:db8:99::1",
  /** The agent's addresses on the link subnets below. */
  remote4: "198.18.0.1",
  remote6: "2001:db8:1::1",
} as const;

const LINK_OPTIONS: HelperExitOptions = {
  mtu: 1500,
  subnetV4: "198.18.0.0/30",
  subnetV6: "2001:db8:1::/64",
  routes: [
    "198.19.200.0/24",
    "2001:db8:200::/64",
    "198.18.77.0/24",
    "2001:db8:77::/64",
    "198.19.99.0/24",
    "2001:db8:99::/64",
  ],
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

export async function buildExitHostileLab(): Promise<ExitHostileLab> {
  const lab = new NetnsLab();
  const controlDir = mkdtempSync(join(tmpdir(), "backhaul-exit-hostile-"));
  let link: Link | undefined;
  const cleanup = async (): Promise<void> => {
    link?.close("test over");
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
      addressesA: ["198.19.200.1/24", "2001:db8:200::1/64"],
      addressesB: ["198.19.200.10/24", "2001:db8:200::10/64"],
    });
    // Forwarding first: the kernel adds a prefix's subnet-router anycast only on a router.
    for (const scope of ["all", "default"]) {
      await local.runChecked("sysctl", ["-qw", `net.ipv6.conf.${scope}.forwarding=1`]);
    }
    await local.ip(["link", "add", "d77", "type", "veth", "peer", "name", "d77-peer"]);
    await local.ip(["addr", "add", "198.18.77.1/24", "dev", "d77"]);
    await local.ip(["-6", "addr", "add", "2001:db8:77::1/64", "dev", "d77", "nodad"]);
    await local.ip(["link", "set", "d77", "up"]); // its peer stays down: no carrier

    const servers = ["--import", "tsx", join(ROOT, "e2e/nat/servers.ts")];
    await waitForLine(server.spawn(process.execPath, servers, { cwd: ROOT }), (v) => v.ready || undefined);
    const witness = local.spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "e2e/exit-hostile/witness.ts"), "--port", String(WITNESS_PORT)],
      { cwd: ROOT },
    );
    const witnessed: Array<Record<string, unknown>> = [];
    const witnessReady = new Promise<void>((resolve) =>
      readJsonLines(witness.child.stdout, (line) => {
        if (line.ready) resolve();
        else witnessed.push(line);
      }),
    );
    await witnessReady;

    const { helper, endpoint, log } = await startHelperIn(local, controlDir);

    // main's relay (helper-exit.ts) between the agent's stream and the helper.
    const [agentSide, mainSide] = createMemoryPipe();
    link = new Link(agentSide, {
      role: "entrance",
      softwareVersion: VERSION,
      capabilities: Capability.Ipv6 | Capability.IcmpEcho | Capability.Stats,
    });
    const exit = await helperExit(() => Promise.resolve(endpoint)).open(mainSide, LINK_OPTIONS);
    await Promise.all([exit.ready, link.ready]);
    const agent = link;
    let exitInfo: string | undefined;
    void helper.exited.then((info) => (exitInfo = `the helper exited (${info.code ?? info.signal})`));
    const helperDied = (): string | undefined => (exitInfo ? `${exitInfo}; its log:\n${log()}` : undefined);
    return { local, helper, link: agent, exit, witnessed, helperLog: log, helperDied, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
