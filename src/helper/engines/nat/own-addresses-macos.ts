/**
 * macOS: this computer's addresses from `ifconfig -a`, which lists every interface, active or not
 * (a bridge with no VM running is "status: inactive" and still holds its addresses), with each
 * IPv4 broadcast address and IPv6 prefix length.
 */
import { subnetRouterAnycast, type OwnAddresses } from "./own-addresses.js";

export const MACOS_IFCONFIG = { file: "/sbin/ifconfig", args: ["-a"] } as const;

const INET = /^\s+inet (\d{1,3}(?:\.\d{1,3}){3})\b(?:.*\bbroadcast (\d{1,3}(?:\.\d{1,3}){3}))?/;
const INET6 = /^\s+inet6 ([0-9a-f:.]+)(?:%\S+)? prefixlen (\d+)/i;

export function parseMacosIfconfig(text: string): OwnAddresses {
  const local: string[] = [];
  const broadcast: string[] = [];
  const anycast = new Set<string>();
  for (const line of text.split("\n")) {
    const v4 = INET.exec(line);
    if (v4) {
      local.push(v4[1]!);
      if (v4[2]) broadcast.push(v4[2]);
      continue;
    }
    const v6 = INET6.exec(line);
    if (v6) {
      local.push(v6[1]!);
      const router = subnetRouterAnycast(v6[1]!, Number(v6[2]));
      if (router) anycast.add(router);
    }
  }
  return { local, broadcast, anycast: [...anycast] };
}
