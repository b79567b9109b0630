// L and S for the kernel and slirp4netns paths, as e2e/nat/topology.ts builds them for Backhaul's:
// L at LAN.local on a veth to S at LAN.server (e2e/netns/address-plan.ts), and S running the same
// services (HTTP, TCP/UDP echo, iperf3).
import type { ManagedProcess, NetnsLab, NetworkNamespace } from "../../netns/index.js";
import { startServers } from "../../nat/start-servers.js";
import { addLanVeth } from "../../netns/lan-veth.js";

const ROOT = new URL("../../..", import.meta.url).pathname;

export interface PrivateNetwork {
  local: NetworkNamespace;
  server: NetworkNamespace;
}

/** Sets the MTU of every veth in `namespace` (the path's MTU applies to each of its links). */
export async function setVethMtu(namespace: NetworkNamespace, mtu: number): Promise<void> {
  const result = await namespace.ip(["-o", "link", "show", "type", "veth"]);
  // Lines look like "7: veth-s@if6: <...> mtu 1500 ...".
  for (const match of result.stdout.matchAll(/^\d+:\s+([^@:\s]+)/gm)) {
    await namespace.ip(["link", "set", "dev", match[1] ?? "", "mtu", String(mtu)]);
  }
}

/** Resolves once `process` prints `text` on stdout (iperf3 -s says "Server listening"). */
export function waitForText(process: ManagedProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${process.description}: no "${text}"`)), timeoutMs);
    process.child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void process.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${process.description} exited before "${text}"`));
    });
  });
}

export async function buildPrivateNetwork(lab: NetnsLab, mtu: number): Promise<PrivateNetwork> {
  const local = await lab.createNamespace("l");
  const server = await lab.createNamespace("s");
  await addLanVeth(lab, local, server, { names: { local: "veth-s", server: "veth-l" } });
  await setVethMtu(local, mtu);
  await setVethMtu(server, mtu);
  // --forceflush: otherwise the greeting waits in a pipe buffer.
  const iperf = server.spawn("iperf3", ["-s", "--forceflush"], { cwd: ROOT });
  await Promise.all([startServers(server), waitForText(iperf, "Server listening", 10_000)]);
  return { local, server };
}
