/**
 * P, a private network only R reaches (issue 15, the reverse direction): a namespace behind R with
 * S's services (HTTP and echo, e2e/nat/servers.ts) and a name that only R's hosts file knows,
 * written to /etc/netns/R/hosts (never this machine's /etc/hosts). Processes started in R before
 * the file existed do not see it: restart them (sshd) afterwards.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startServers } from "../nat/start-servers.js";
import { onNetwork, REMOTE_PRIVATE, type Host, type Network } from "../netns/address-plan.js";
import { after } from "node:test";
import { NetnsLab, type NetworkNamespace } from "../netns/index.js";
import { sshdForSuite, type SshdSuite } from "../sshd/private-lab.js";

/** P's name, in R's hosts file only: neither L's resolver nor R's DNS knows it. */
export const REMOTE_PRIVATE_NAME = "web.remote.test";

/** A P behind R: its network, R's and the server's addresses on it, the server's name, P's role in the lab. */
export interface RemotePrivatePlan {
  network: Network;
  remote: Host;
  server: Host & { v4: string };
  name: string;
  role: string;
}

export async function attachRemotePrivate(
  lab: NetnsLab,
  remote: NetworkNamespace,
  plan: RemotePrivatePlan = { ...REMOTE_PRIVATE, name: REMOTE_PRIVATE_NAME, role: "p" },
): Promise<NetworkNamespace> {
  const p = await lab.createNamespace(plan.role);
  await lab.addVethPair(remote, p, {
    addressesA: onNetwork(plan.network, plan.remote),
    addressesB: onNetwork(plan.network, plan.server),
  });
  await startServers(p);
  await writeFile(
    join("/etc/netns", remote.name, "hosts"),
    `127.0.0.1 localhost\n::1 localhost\n${plan.server.v4} ${plan.name}\n`,
  );
  return p;
}

/**
 * R's test sshd for a suite (sshdForSuite) with P behind R, attached by `plan`, in a lab of its own
 * removed after the suite; `ready` runs next (to restart sshd: its sessions must see R's hosts file).
 */
export function sshdWithRemotePrivateForSuite(
  homePrefix: string,
  plan: RemotePrivatePlan | undefined,
  ready: (suite: SshdSuite) => Promise<void>,
): SshdSuite {
  const pLab = new NetnsLab();
  const suite = sshdForSuite(homePrefix, async () => {
    await attachRemotePrivate(pLab, suite.remote, plan);
    await ready(suite);
  });
  after(() => pLab.cleanup());
  return suite;
}
