// Connected subnets and this computer's own addresses, from os.networkInterfaces(): the same on
// every OS, and the only source that names the addresses a host route may point at.
import { formatPrefix, prefixOf } from "../../../helper/engines/routes/cidr.js";
import { makeEntry, withoutZone } from "../../../helper/engines/routes/entry.js";
import type { InterfaceMap, RouteEntry } from "../../../helper/engines/routes/types.js";

/**
 * For each interface address: a "connected" entry for its subnet (unless the subnet is the
 * address alone, as on point-to-point links) and a "local" host entry for the address itself.
 */
export function interfaceRoutes(interfaces: InterfaceMap): RouteEntry[] {
  const entries: RouteEntry[] = [];
  const seen = new Set<string>();
  const add = (entry: RouteEntry): void => {
    const key = `${entry.source} ${entry.prefix} ${entry.interface ?? ""}`;
    if (seen.has(key)) return;
    seen.add(key);
    entries.push(entry);
  };
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      // Node leaves cidr null when the netmask is not contiguous.
      if (info.cidr === null) continue;
      const address = withoutZone(info.address);
      const length = Number(info.cidr.slice(info.cidr.lastIndexOf("/") + 1));
      const subnet = prefixOf(address, length);
      const host = prefixOf(address, address.includes(":") ? 128 : 32);
      if (subnet === null || host === null) continue;
      if (formatPrefix(subnet) !== formatPrefix(host)) add(makeEntry(subnet, name, null, "connected"));
      add(makeEntry(host, name, null, "local"));
    }
  }
  return entries;
}
