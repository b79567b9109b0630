// The direct path: no tunnel, L's kernel forwards R -> S (S routes R's addresses back via L).
// The reference for the small-request goal ("within 1 ms of the direct path").
import type { PeerPath } from "./path.js";
import type { BenchTopology } from "./topology.js";
import { ADVERTISED, SSH_LINK } from "../../netns/address-plan.js";

export const S_NETWORK = ADVERTISED.v4;

export async function startDirect(t: BenchTopology): Promise<PeerPath> {
  await t.setLocalForwarding(true);
  await t.remote.ip(["route", "add", S_NETWORK, "via", SSH_LINK.local.v4]);
  return {
    name: "direct",
    setup: `R routes ${S_NETWORK} via L (${SSH_LINK.local.v4}); L forwards (ip_forward=1); no tunnel`,
    userspace: false,
    stop: async () => {
      await t.remote.ip(["route", "del", S_NETWORK]);
      await t.setLocalForwarding(false);
    },
  };
}
