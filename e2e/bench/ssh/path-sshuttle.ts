// sshuttle, the other way round: it runs in R as root and logs in to L's root sshd, where its
// Python server makes the connections to S. It uses iptables' nat table in R (R's only).
import { quoteShellArg as q } from "../../../src/main/broker/deploy/shell-quote.js";
import { findOnPath, type NetworkNamespace } from "../../netns/index.js";
import { S_NETWORK } from "./path-direct.js";
import { waitFor, type PeerPath } from "./path.js";
import { sshClientOptions } from "./root-sshd.js";
import type { BenchTopology } from "./topology.js";

export function sshuttleSkipReason(): string | undefined {
  if (!findOnPath("sshuttle")) return "sshuttle is not installed (Debian package sshuttle)";
  if (!findOnPath("iptables"))
    return "iptables is not installed (Debian package iptables), sshuttle's nat method needs it";
  return undefined;
}

/** sshuttle's nat rule for `network` is in place in `namespace`. */
async function redirects(namespace: NetworkNamespace, network: string): Promise<boolean> {
  const rules = await namespace.run("iptables", ["-t", "nat", "-S"]);
  return rules.stdout.split("\n").some((rule) => rule.includes(`-d ${network}`) && rule.includes("REDIRECT"));
}

/**
 * sshuttle in `namespace` with `args` (`--method nat`, for `network`), once its redirect is in
 * place; a route to `network` via `via` first. Resolves to its stop, which also empties the
 * namespace's nat table and removes the route.
 */
export async function runSshuttle(
  t: BenchTopology,
  namespace: NetworkNamespace,
  network: string,
  via: string,
  args: readonly string[],
): Promise<() => Promise<void>> {
  // connect() needs a route before the nat OUTPUT chain can redirect it to sshuttle; the far
  // side does not forward, so nothing gets past sshuttle.
  await namespace.ip(["route", "add", network, "via", via]);
  const sshuttle = namespace.spawn("sshuttle", args, { env: { ...process.env, HOME: t.dir } });
  let output = "";
  sshuttle.child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  sshuttle.child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = async (): Promise<void> => {
    await sshuttle.stop(5_000); // SIGTERM: sshuttle removes its own rules
    // In case it could not: the namespace's nat table is ours, and the next path must not be redirected.
    await namespace.run("iptables", ["-t", "nat", "-F"]);
    await namespace.run("iptables", ["-t", "nat", "-X"]);
    await namespace.run("ip", ["route", "del", network]);
  };
  try {
    // It sets its rules only after "Connected to server.": a connection made before them goes
    // straight to the far side, which drops it, and conntrack keeps it unredirected.
    await waitFor(
      "sshuttle",
      async () => (await redirects(namespace, network)) && output.includes("Connected to server."),
      () => (sshuttle.hasExited ? `exited:\n${output.trim()}` : undefined),
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}

/** In R as root, logged in to L's root sshd. */
export async function startSshuttle(t: BenchTopology): Promise<PeerPath> {
  const ssh = ["ssh", ...sshClientOptions(t.rootSshd)].map(q).join(" ");
  const args = ["--method", "nat", "--dns", "-r", `root@${t.rootSshd.address}`, "-e", ssh, S_NETWORK];
  const stop = await runSshuttle(t, t.remote, S_NETWORK, t.rootSshd.address, args);
  return {
    name: "sshuttle",
    setup:
      `sshuttle ${args.slice(0, 5).join(" ")} -e 'ssh … -c aes128-gcm@openssh.com' ${S_NETWORK} in R ` +
      `(latency control on, its default); DNS to R's nameserver is captured by --dns`,
    userspace: true,
    stop,
  };
}
