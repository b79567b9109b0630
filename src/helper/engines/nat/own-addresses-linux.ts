/**
 * Linux: this computer's addresses from the kernel's own tables, read as files (an `ip` spawn
 * stalls the helper's event loop 7-10 ms). /proc/net/fib_trie holds the IPv4 local table: every
 * "host LOCAL" and "BROADCAST" entry, of interfaces with or without carrier alike.
 * /proc/net/if_inet6 lists every IPv6 address with its prefix length, from which the
 * subnet-router anycast addresses follow. Both are per network namespace: the helper's own.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { subnetRouterAnycast, type OwnAddresses } from "./own-addresses.js";

const ENTRY = /\/(\d{1,2}) \S+ $/;
const LEAF = /^(\d{1,3}(?:\.\d{1,3}){3})\s*$/;

/**
 * The local and broadcast entries of /proc/net/fib_trie (local ones as CIDR when not /32). The
 * file holds every route (hundreds of kilobytes under a VPN that pushes thousands), and these
 * entries are few: each is found by its type, then the leaf line above it names the address.
 */
export function parseFibTrie(text: string): Pick<OwnAddresses, "local" | "broadcast"> {
  const local = new Set<string>();
  const broadcast = new Set<string>();
  for (const [type, into] of [
    ["LOCAL", local],
    ["BROADCAST", broadcast],
  ] as const) {
    const marker = ` ${type}\n`;
    for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) {
      const lineStart = text.lastIndexOf("\n", at) + 1;
      const entry = ENTRY.exec(text.slice(lineStart, at + 1));
      const leafAt = text.lastIndexOf("|-- ", lineStart);
      if (!entry || leafAt === -1) continue;
      const leaf = LEAF.exec(text.slice(leafAt + 4, text.indexOf("\n", leafAt)));
      if (!leaf) continue;
      const bits = Number(entry[1]);
      into.add(type === "BROADCAST" || bits === 32 ? leaf[1]! : `${leaf[1]!}/${bits}`);
    }
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

const FIB_TRIE = "/proc/net/fib_trie";
const IF_INET6 = "/proc/net/if_inet6";

function fromFiles(fibTrie: string, ifInet6: string): OwnAddresses {
  const v4 = parseFibTrie(fibTrie);
  const v6 = parseIfInet6(ifInet6);
  return { local: [...v4.local, ...v6.local], broadcast: v4.broadcast, anycast: v6.anycast };
}

/** Reads both files now, blocking (a few milliseconds with thousands of routes): at start-up. */
export function readLinuxOwnAddresses(): OwnAddresses {
  return fromFiles(readOrEmpty(FIB_TRIE), readOrEmpty(IF_INET6));
}

/** Reads both files on the thread pool: the kernel's formatting of a large table stays off the event loop. */
export async function readLinuxOwnAddressesAsync(): Promise<OwnAddresses> {
  const read = (path: string): Promise<string> => readFile(path, "utf8").catch(() => "");
  const [fibTrie, ifInet6] = await Promise.all([read(FIB_TRIE), read(IF_INET6)]);
  return fromFiles(fibTrie, ifInet6);
}
