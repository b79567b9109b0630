/**
 * Linux: this computer's addresses from the kernel's own tables, read as files (an `ip` spawn
 * stalls the helper's event loop 7-10 ms). /proc/net/fib_trie holds the IPv4 local table: every
 * "host LOCAL" and "BROADCAST" entry, of interfaces with or without carrier alike.
 * /proc/net/if_inet6 lists every IPv6 address with its prefix length, from which the
 * subnet-router anycast addresses follow. Both are per network namespace: the helper's own.
 */
import { readFileSync } from "node:fs";
import { subnetRouterAnycast, type OwnAddresses } from "./own-addresses.js";

const LEAF = /^[\s|]*\|-- (\d{1,3}(?:\.\d{1,3}){3})\s*$/;
const ENTRY = /^\s+\/(\d{1,2}) \S+ (LOCAL|BROADCAST)\b/;

/** The local and broadcast entries of /proc/net/fib_trie (local ones as CIDR when not /32). */
export function parseFibTrie(text: string): Pick<OwnAddresses, "local" | "broadcast"> {
  const local = new Set<string>();
  const broadcast = new Set<string>();
  let leaf: string | undefined;
  for (const line of text.split("\n")) {
    const key = LEAF.exec(line);
    if (key) {
      leaf = key[1];
      continue;
    }
    const entry = ENTRY.exec(line);
    if (!entry || !leaf) continue;
    const bits = Number(entry[1]);
    if (entry[2] === "BROADCAST") broadcast.add(leaf);
    else local.add(bits === 32 ? leaf : `${leaf}/${bits}`);
  }
  return { local: [...local], broadcast: [...broadcast] };
}

const INET6_LINE = /^([0-9a-f]{32})\s+[0-9a-f]+\s+([0-9a-f]{2})\s/i;

/** Every address of /proc/net/if_inet6, and the subnet-router anycast address of each prefix. */
export function parseIfInet6(text: string): Pick<OwnAddresses, "local" | "anycast"> {
  const local: string[] = [];
  const anycast = new Set<string>();
  for (const line of text.split("\n")) {
    const match = INET6_LINE.exec(line);
    if (!match) continue;
    const address = match[1]!.replace(/(.{4})(?!$)/g, "$1:");
    local.push(address);
    const router = subnetRouterAnycast(address, parseInt(match[2]!, 16));
    if (router) anycast.add(router);
  }
  return { local, anycast: [...anycast] };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // no IPv6, or /proc not mounted: os.networkInterfaces() still answers
  }
}

export function readLinuxOwnAddresses(): OwnAddresses {
  const v4 = parseFibTrie(readOrEmpty("/proc/net/fib_trie"));
  const v6 = parseIfInet6(readOrEmpty("/proc/net/if_inet6"));
  return { local: [...v4.local, ...v6.local], broadcast: v4.broadcast, anycast: v6.anycast };
}
