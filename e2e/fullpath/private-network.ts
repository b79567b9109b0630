/**
 * S, the private network only L reaches, attached to L: dnsmasq serving the private zone
 * (e2e/dns/zone.ts), HTTP and echo (e2e/nat/servers.ts) and an iperf3 server on host.corp.test.
 * L's resolver must point at SERVER_V4 (the caller sets L's resolv.conf).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dnsmasqArgs, dnsmasqConfig, SERVER_V4, SERVER_V6 } from "../dns/zone.js";
import { waitForLine } from "../nat/topology.js";
import type { NetnsLab, NetworkNamespace } from "../netns/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
export const HOST_V4 = "198.19.1.10";
export const HOST_V6 = "2001:db8:19:1::10";

/** Creates S in `lab`, links it to `local`, starts its services; `dir` holds dnsmasq's config. */
export async function attachPrivateNetwork(
  lab: NetnsLab,
  local: NetworkNamespace,
  dir: string,
): Promise<NetworkNamespace> {
  const server = await lab.createNamespace("s");
  await lab.addVethPair(local, server, {
    addressesA: ["198.19.0.1/24", "198.19.1.1/24", "2001:db8:19::1/64", "2001:db8:19:1::1/64"],
    addressesB: [`${SERVER_V4}/24`, `${HOST_V4}/24`, `${SERVER_V6}/64`, `${HOST_V6}/64`],
  });
  const config = join(dir, "dnsmasq.conf");
  writeFileSync(config, dnsmasqConfig());
  server.spawn("dnsmasq", dnsmasqArgs(config));
  server.spawn("iperf3", ["-s"]);
  const services = server.spawn(process.execPath, ["--import", "tsx", join(ROOT, "e2e/nat/servers.ts")], {
    cwd: ROOT,
  });
  await waitForLine(services, (v) => (v.ready ? true : undefined));
  return server;
}
