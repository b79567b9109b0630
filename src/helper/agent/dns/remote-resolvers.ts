/**
 * The remote's own resolvers, for the agent's exit (the reverse direction): read once at the
 * agent's start, after the journal's recovery has put back whatever a previous agent changed and
 * before this agent's entrance points the resolver at this computer's stub. Asking the live
 * /etc/resolv.conf later would send the exit's names over the link, back to this computer.
 *
 * With systemd-resolved, resolv.conf names its local stub (127.0.0.53), which the TUN entrance
 * then routes to this computer for every domain: the uplinks' servers are read from
 * /run/systemd/resolve/resolv.conf instead. Any address of the link's own stubs is left out.
 */
import { readFile } from "node:fs/promises";
import { DNS_PORT, parseResolvConf, parseResolvConfSearch } from "../../engines/dns/resolv-conf.js";
import type { Upstream } from "../../engines/dns/upstream.js";

export const RESOLVED_UPLINKS_PATH = "/run/systemd/resolve/resolv.conf";
const RESOLVED_STUBS = new Set(["127.0.0.53", "127.0.0.54"]);

export interface RemoteResolvers {
  servers: string[];
  searchDomains: string[];
}

export async function readRemoteResolvers(
  paths: { resolvConf: string; resolvedUplinks: string } = {
    resolvConf: "/etc/resolv.conf",
    resolvedUplinks: RESOLVED_UPLINKS_PATH,
  },
): Promise<RemoteResolvers> {
  const text = await readFile(paths.resolvConf, "utf8").catch(() => "");
  let servers = parseResolvConf(text);
  if (servers.length > 0 && servers.every((server) => RESOLVED_STUBS.has(server))) {
    const uplinks = parseResolvConf(await readFile(paths.resolvedUplinks, "utf8").catch(() => ""));
    if (uplinks.length > 0) servers = uplinks;
  }
  return { servers, searchDomains: parseResolvConfSearch(text) };
}

/** The servers as the DNS engine takes them, without the link's stub addresses. */
export function upstreamsOf(resolvers: RemoteResolvers, stubs: readonly string[]): Upstream[] {
  return resolvers.servers
    .filter((server) => !stubs.includes(server))
    .map((address) => ({ address, port: DNS_PORT }));
}
