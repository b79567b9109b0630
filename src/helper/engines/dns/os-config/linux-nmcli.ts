/**
 * Linux with NetworkManager and no systemd-resolved: `nmcli device show`, each connected device's
 * servers (IP4.DNS[n], IP6.DNS[n]) and domains (IP4.DOMAIN[n], IP6.DOMAIN[n]). As NetworkManager's
 * split-DNS backends do, a device's domains send names under them to its servers; every device's
 * servers, in nmcli's order, are the defaults, and its domains the search list.
 */
import {
  normalizeDomain,
  parseServer,
  uniqueDomains,
  type OsDnsConfig,
  type OsResolver,
} from "./os-dns-config.js";

export const NMCLI_DEVICE_SHOW = { file: "nmcli", args: ["device", "show"] } as const;

export function parseNmcliDeviceShow(text: string): OsDnsConfig {
  const devices: Map<string, string[]>[] = [];
  let device: Map<string, string[]> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const field = /^([A-Z0-9-]+\.[A-Z0-9-]+)(?:\[\d+\])?:\s*(.*?)\s*$/.exec(line);
    if (!field) continue;
    const [, key = "", value = ""] = field;
    if (key === "GENERAL.DEVICE" || !device) {
      device = new Map();
      devices.push(device);
    }
    device.set(key, [...(device.get(key) ?? []), value]);
  }
  const resolvers: OsResolver[] = [];
  const searchDomains: string[] = [];
  for (const fields of devices) {
    const get = (key: string): string[] => fields.get(key) ?? [];
    // "100 (connected)"; NetworkManager's states from 100 up are connected.
    if (Number.parseInt(get("GENERAL.STATE")[0] ?? "", 10) < 100) continue;
    const servers = [...get("IP4.DNS"), ...get("IP6.DNS")].flatMap((text) => parseServer(text) ?? []);
    const domains = uniqueDomains([...get("IP4.DOMAIN"), ...get("IP6.DOMAIN")].map(normalizeDomain));
    searchDomains.push(...domains);
    if (servers.length === 0) continue;
    const name = get("GENERAL.DEVICE")[0] ?? "";
    const common = { servers, source: `NetworkManager device ${name}`, interface: name };
    if (domains.length > 0) resolvers.push({ domains, ...common });
    resolvers.push({ domains: [], ...common });
  }
  return { reader: "nmcli", resolvers, searchDomains: uniqueDomains(searchDomains) };
}
