/**
 * A getaddrinfo stand-in that answers only from a hosts file (/etc/hosts): the agent's exit uses
 * it as its DNS engine's fallback. getaddrinfo itself would ask the remote's resolv.conf, which a
 * TUN entrance on the remote has pointed at this computer's stub: a name the remote's own
 * resolvers do not know would then be answered by this computer, the wrong side.
 */
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import type { AddressLookup, LookupAddress } from "./os-lookup.js";

export const HOSTS_PATH = "/etc/hosts";

/** The addresses `hostname` has in a hosts file's text, in file order (names match case-blind). */
export function parseHostsFile(text: string, hostname: string): LookupAddress[] {
  const wanted = hostname.toLowerCase();
  const found: LookupAddress[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [address, ...names] = (line.split("#", 1)[0] ?? "").trim().split(/\s+/);
    const family = address === undefined ? 0 : isIP(address);
    if (family === 0 || !names.some((name) => name.toLowerCase() === wanted)) continue;
    if (!found.some((entry) => entry.address === address)) found.push({ address: address!, family });
  }
  return found;
}

/** An AddressLookup from a hosts file, read at each lookup (it is small, and may be edited). */
export function hostsFileLookup(path: string = HOSTS_PATH): AddressLookup {
  return async (hostname) => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      text = "";
    }
    const found = parseHostsFile(text, hostname);
    if (found.length > 0) return found;
    throw Object.assign(new Error(`${hostname} is not in ${path}`), { code: "ENOTFOUND" });
  };
}
