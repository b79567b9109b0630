// This computer's TUN entrance on macOS, as commands and files: a utun interface is configured
// with ifconfig, routes go in with route(8), and each --remote-dns-domain is a file
// /etc/resolver/DOMAIN naming the remote's resolver (resolver(5): the system resolver sends names
// under DOMAIN there, everything else as before; `scutil --dns` lists it). Opening the utun
// device itself (a PF_SYSTEM socket) is the TunDevice seam's part (tun/open-tun.ts).
// Built and parsed here, tested on recorded output (fixtures/SOURCES.md).
import { ADDRESS_BITS, parsePrefix } from "../../../shared/ip-prefix.js";

export interface Command {
  file: string;
  args: string[];
}

function prefixOf(cidr: string): { family: 4 | 6; address: string; length: number } {
  const parsed = parsePrefix(cidr, { bareIsHost: true });
  if (!parsed.ok) throw new TypeError(`not an IP prefix: ${JSON.stringify(cidr)}`);
  return {
    family: parsed.prefix.family,
    address: cidr.split("/")[0] ?? "",
    length: parsed.prefix.length,
  };
}

function netmask(length: number): string {
  const bits = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join(".");
}

function checkUtun(dev: string): void {
  if (!/^utun\d{1,4}$/.test(dev)) throw new TypeError(`not a utun interface: ${JSON.stringify(dev)}`);
}

/**
 * The address of this computer's end (`local`, e.g. "198.18.0.1/30") on a point-to-point utun,
 * whose far end is `peer` (the remote exit's stub, e.g. "198.18.0.2"), and the MTU; then up.
 */
export function utunAddressCommand(dev: string, local: string, peer: string, mtu: number): Command {
  checkUtun(dev);
  const { family, address, length } = prefixOf(local);
  if (family === 4)
    return {
      file: "ifconfig",
      args: [dev, "inet", address, peer, "netmask", netmask(length), "mtu", String(mtu), "up"],
    };
  return { file: "ifconfig", args: [dev, "inet6", address, "prefixlen", String(length), "alias"] };
}

/** `route -n add|delete -inet[6] PREFIX -interface utunN`. */
export function routeCommand(action: "add" | "delete", prefix: string, dev: string): Command {
  checkUtun(dev);
  const { family, length } = prefixOf(prefix);
  if (length > ADDRESS_BITS[family]) throw new RangeError(`bad prefix length in ${prefix}`);
  return {
    file: "route",
    args: ["-n", action, family === 4 ? "-inet" : "-inet6", prefix, "-interface", dev],
  };
}

/** route(8) answering a delete of what is not there. */
export function isRouteGone(output: string): boolean {
  return /not in table/.test(output);
}

export const RESOLVER_DIR = "/etc/resolver";

/** The file for one domain: its path and its bytes (resolver(5)). */
export function resolverFile(
  domain: string,
  servers: readonly string[],
  dir = RESOLVER_DIR,
): { path: string; text: string } {
  if (!/^[a-z0-9_.-]+$/.test(domain) || domain.startsWith(".") || domain.includes(".."))
    throw new TypeError(`not a domain for ${dir}: ${JSON.stringify(domain)}`);
  const lines = [
    "# Written by backhaul: names under this domain resolve with the remote's resolver.",
    "# Removed when backhaul disconnects.",
    `domain ${domain}`,
    ...servers.map((server) => `nameserver ${server}`),
    "",
  ];
  return { path: `${dir}/${domain}`, text: lines.join("\n") };
}

/** The default routes' gateways in `netstat -rn` output, link addresses and link#N skipped. */
export function parseNetstatDefaultGateways(output: string): string[] {
  const gateways: string[] = [];
  for (const line of output.split("\n")) {
    const [destination, gateway] = line.trim().split(/\s+/);
    if (destination !== "default" || gateway === undefined) continue;
    if (
      gateway.startsWith("link#") ||
      gateway.includes("%") ||
      /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i.test(gateway)
    )
      continue;
    if (!gateways.includes(gateway)) gateways.push(gateway);
  }
  return gateways;
}

export interface ScutilResolver {
  domain: string | null;
  nameservers: string[];
  flags: string;
}

/** The resolvers of `scutil --dns`'s first section (the one the system resolver uses). */
export function parseScutilResolvers(output: string): ScutilResolver[] {
  const main = output.split(/^DNS configuration \(for scoped queries\)/m)[0] ?? "";
  return main
    .split(/^resolver #\d+\s*$/m)
    .slice(1)
    .map((block) => ({
      domain: /^\s*domain\s*:\s*(\S+)/m.exec(block)?.[1] ?? null,
      nameservers: [...block.matchAll(/^\s*nameserver\[\d+\]\s*:\s*(\S+)/gm)].map((match) => match[1] ?? ""),
      flags: /^\s*flags\s*:\s*(.*)$/m.exec(block)?.[1]?.trim() ?? "",
    }));
}
