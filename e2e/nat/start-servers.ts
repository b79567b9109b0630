// Starts the private network's services (servers.ts) in a namespace, as every lab with an S does.
import { ChildRpc } from "../netns/child-rpc.js";
import type { NetworkNamespace } from "../netns/index.js";

/** Resolves once HTTP, TCP echo and UDP echo listen in `namespace`; its lab stops them. */
export async function startServers(namespace: NetworkNamespace): Promise<ChildRpc> {
  const servers = ChildRpc.start(namespace, "e2e/nat/servers.ts", {
    name: `S's services in ${namespace.role}`,
  });
  await servers.waitFor("ready", (event) => (event.ready === true ? true : undefined));
  return servers;
}
