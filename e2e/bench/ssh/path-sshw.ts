// `ssh -w` with kernel forwarding in L: R's OpenSSH client opens tun0 in R and, through L's root
// sshd (PermitTunnel yes), tun0 in L; L forwards between its tun0 and S, and S routes R's tunnel
// address back via L. One SSH message per IP packet, at tun0's default MTU of 1500.
import { S_NETWORK } from "./path-direct.js";
import { waitFor, type PeerPath } from "./path.js";
import { sshClientOptions } from "./root-sshd.js";
import type { BenchTopology } from "./topology.js";
import { BENCH, onNetwork } from "../../netns/address-plan.js";
import type { NetworkNamespace } from "../../netns/index.js";

const R_TUN = onNetwork(BENCH.sshw.network, BENCH.sshw.remote);
const L_TUN = onNetwork(BENCH.sshw.network, BENCH.sshw.local);

async function hasTun(namespace: NetworkNamespace): Promise<boolean> {
  const result = await namespace.run("ip", ["link", "show", "dev", "tun0"]);
  return result.code === 0;
}

export async function startSshW(t: BenchTopology): Promise<PeerPath> {
  const args = [
    ...sshClientOptions(t.rootSshd),
    ...["-o", "ExitOnForwardFailure=yes", "-o", "Tunnel=point-to-point", "-w", "0:0"],
    // A session, not -N: OpenSSH sets TCP_NODELAY on both ends when a session starts (tty or
    // not), and without one Nagle stays on: 44 ms per small request here instead of about 1 ms.
    `root@${t.rootSshd.address}`,
    "sleep 3600",
  ];
  const ssh = t.remote.spawn("ssh", args, { env: { ...process.env, HOME: t.dir } });
  let output = "";
  ssh.child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  ssh.child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = async (): Promise<void> => {
    await t.setLocalForwarding(false);
    await ssh.stop(5_000);
    // Closing the tunnel removes both tun0 devices, and R's route with its own.
    await waitFor(
      "tun0 removal",
      async () => !(await hasTun(t.remote)) && !(await hasTun(t.local)),
      () => undefined,
      10_000,
    );
  };
  try {
    await waitFor(
      "ssh -w",
      async () => (await hasTun(t.remote)) && (await hasTun(t.local)),
      () => (ssh.hasExited ? `exited:\n${output.trim()}` : undefined),
      20_000,
    );
    for (const [namespace, addresses] of [
      [t.remote, R_TUN],
      [t.local, L_TUN],
    ] as const) {
      await namespace.addAddresses("tun0", addresses);
      await namespace.ip(["link", "set", "dev", "tun0", "up"]);
    }
    await t.remote.ip(["route", "add", S_NETWORK, "dev", "tun0"]);
    await t.setLocalForwarding(true);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: "ssh -w",
    setup:
      `ssh -w 0:0 -o Tunnel=point-to-point -c aes128-gcm@openssh.com root@L 'sleep 3600' in R; ` +
      `tun0 ${R_TUN.join(" ")} (R) / ${L_TUN.join(" ")} (L), MTU 1500; L forwards; S routes ${BENCH.remoteSide} via L; ` +
      "a remote command rather than -N, for TCP_NODELAY (IPQoS left at its default: it only sets DSCP)",
    userspace: true,
    stop,
  };
}
