/**
 * macOS: `scutil --dns`, the resolver configuration every lookup on the Mac goes through (resolv.conf
 * there lists the primary resolver only). Its first section lists the resolvers names choose from:
 * the default ones (no `domain`) and supplemental ones per domain, which is where a split-DNS VPN
 * and /etc/resolver/* files put theirs. The "(for scoped queries)" section lists per-interface
 * resolvers that only programs bound to an interface use. Multicast DNS resolvers (`options :
 * mdns`: local, 254.169.in-addr.arpa, ...) have no server to forward to and are left out, as are
 * the unlabelled reachability lines of old releases.
 */
import {
  DNS_PORT,
  normalizeDomain,
  parseServer,
  type OsDnsConfig,
  type OsResolver,
} from "./os-dns-config.js";

export const SCUTIL_DNS = { file: "scutil", args: ["--dns"] } as const;

interface Block {
  number: string;
  scoped: boolean;
  fields: Map<string, string[]>;
}

export function parseScutilDns(text: string): OsDnsConfig {
  const blocks: Block[] = [];
  let scoped = false;
  let block: Block | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^DNS configuration/.test(line)) {
      // "(for scoped queries)" and any later section: not chosen by name.
      scoped = line.includes("(");
      block = undefined;
      continue;
    }
    const header = /^resolver #(\d+)\s*$/.exec(line);
    if (header) {
      block = { number: header[1] ?? "", scoped, fields: new Map() };
      blocks.push(block);
      continue;
    }
    const field = /^\s+([a-z_ ]+?)(?:\[\d+\])?\s*:\s*(.*?)\s*$/.exec(line);
    if (!block || !field) continue;
    const [, key = "", value = ""] = field;
    const values = block.fields.get(key) ?? [];
    values.push(value);
    block.fields.set(key, values);
  }
  const resolvers = blocks.flatMap((b) => toResolver(b) ?? []);
  const first = resolvers.find((resolver) => !resolver.scoped);
  return { reader: "scutil", resolvers, searchDomains: first?.searchDomains ?? [] };
}

function toResolver(block: Block): OsResolver | undefined {
  const get = (key: string): string[] => block.fields.get(key) ?? [];
  if (get("options").some((options) => /\bmdns\b/.test(options))) return undefined;
  const port = Number(get("port")[0] ?? DNS_PORT);
  const servers = get("nameserver").flatMap((text) => parseServer(text, port) ?? []);
  const domains = get("domain")
    .map(normalizeDomain)
    .filter((domain) => domain !== "");
  const searchDomains = get("search domain")
    .map(normalizeDomain)
    .filter((domain) => domain !== "" && domain !== ".");
  const order = Number(get("order")[0]);
  const interfaceName = /\(([^)]+)\)/.exec(get("if_index")[0] ?? "")?.[1];
  const resolver: OsResolver = {
    domains,
    servers,
    source: `scutil ${block.scoped ? "scoped " : ""}resolver #${block.number}`,
  };
  if (searchDomains.length > 0) resolver.searchDomains = searchDomains;
  if (interfaceName !== undefined) resolver.interface = interfaceName;
  if (Number.isFinite(order)) resolver.order = order;
  if (block.scoped) resolver.scoped = true;
  return resolver;
}
