/**
 * Windows: this computer's addresses from `route print`, whose active routes include one
 * host route per own address (destination = interface, On-link), one per subnet broadcast, and
 * each on-link IPv6 prefix and own address (/128 On-link). An adapter without media holds no
 * routes: Windows does not deliver to its addresses either.
 */
import ipaddr from "ipaddr.js";
import { directedBroadcast, subnetRouterAnycast, type OwnAddresses } from "./own-addresses.js";

export const WINDOWS_ROUTE_PRINT = { file: "route.exe", args: ["print"] } as const;

const IPV4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const V4_ROUTE = new RegExp(`^\\s*(${IPV4})\\s+(${IPV4})\\s+(On-link|${IPV4})\\s+(${IPV4})\\s+\\d+\\s*$`);
const V6_ROUTE = /^\s*\d+\s+\d+\s+([0-9a-f:.]+)\/(\d+)(?:\s+(\S+))?\s*$/i;
const V6_GATEWAY_CONTINUATION = /^\s+(On-link|[0-9a-f:.%]+)\s*$/i;

export function parseWindowsRoutePrint(text: string): OwnAddresses {
  const local = new Set<string>();
  const broadcast = new Set<string>();
  const anycast = new Set<string>();
  const onLinkV4: Array<{ network: string; prefixLength: number; iface: string }> = [];
  const hostRoutesV4: Array<{ destination: string; iface: string }> = [];
  let section: "none" | "v4" | "v6" = "none";
  let persistent = false;
  let pendingV6: { address: string; prefixLength: number } | undefined;
  const onV6Route = (address: string, prefixLength: number, gateway: string): void => {
    if (gateway !== "On-link") return;
    if (prefixLength === 128) local.add(address);
    else {
      const router = subnetRouterAnycast(address, prefixLength);
      if (router) anycast.add(router);
    }
  };
  for (const line of text.split(/\r?\n/)) {
    if (/^IPv4 Route Table/.test(line)) [section, persistent] = ["v4", false];
    else if (/^IPv6 Route Table/.test(line)) [section, persistent] = ["v6", false];
    else if (/^Persistent Routes:/.test(line)) persistent = true;
    if (persistent || section === "none") continue;
    if (section === "v4") {
      const route = V4_ROUTE.exec(line);
      if (!route || route[3] !== "On-link") continue;
      const destination = route[1]!;
      const iface = route[4]!;
      const netmask = route[2]!;
      const prefixLength = ipaddr.IPv4.parse(netmask).prefixLengthFromSubnetMask() ?? -1;
      if (prefixLength === 32) hostRoutesV4.push({ destination, iface });
      else if (prefixLength > 0) onLinkV4.push({ network: destination, prefixLength, iface });
      continue;
    }
    if (pendingV6) {
      const gateway = V6_GATEWAY_CONTINUATION.exec(line);
      if (gateway) onV6Route(pendingV6.address, pendingV6.prefixLength, gateway[1]!);
      pendingV6 = undefined;
      if (gateway) continue;
    }
    const route = V6_ROUTE.exec(line);
    if (!route || !ipaddr.IPv6.isValid(route[1]!)) continue;
    // A long destination pushes the gateway onto the next line.
    if (route[3] === undefined) pendingV6 = { address: route[1]!, prefixLength: Number(route[2]) };
    else onV6Route(route[1]!, Number(route[2]), route[3]);
  }
  const subnetBroadcasts = new Set(
    onLinkV4.map(
      ({ network, prefixLength, iface }) => `${directedBroadcast(network, prefixLength)} ${iface}`,
    ),
  );
  for (const { destination, iface } of hostRoutesV4) {
    if (destination === iface) local.add(destination);
    else if (destination === "255.255.255.255" || subnetBroadcasts.has(`${destination} ${iface}`)) {
      broadcast.add(destination);
    }
  }
  return { local: [...local], broadcast: [...broadcast], anycast: [...anycast] };
}
