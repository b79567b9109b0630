/**
 * S, the private network only L reaches, attached to L: dnsmasq serving the private zone
 * (e2e/dns/zone.ts), HTTP and echo (e2e/nat/servers.ts) and an iperf3 server on host.corp.test.
 * L's resolver must point at LAN.dns (the caller sets L's resolv.conf). Addresses:
 * e2e/netns/address-plan.ts (L on LAN and CORP_NET, S as LAN.dns and host.corp.test).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dnsmasqArgs, dnsmasqConfig } from "../dns/zone.js";
import { startServers } from "../nat/start-servers.js";
import { LAN } from "../netns/address-plan.js";
import type { NetnsLab, NetworkNamespace } from "../netns/index.js";
import { addLanVeth } from "../netns/lan-veth.js";

/** Creates S in `lab`, links it to `local`, starts its services; `dir` holds dnsmasq's config. */
export async function attachPrivateNetwork(
  lab: NetnsLab,
  local: NetworkNamespace,
  dir: string,
): Promise<NetworkNamespace> {
  const server = await lab.createNamespace("s");
  await addLanVeth(lab, local, server, { server: [LAN.dns], corp: true });
  const config = join(dir, "dnsmasq.conf");
  writeFileSync(config, dnsmasqConfig());
  server.spawn("dnsmasq", dnsmasqArgs(config));
  server.spawn("iperf3", ["-s"]);
  await startServers(server);
  return server;
}
