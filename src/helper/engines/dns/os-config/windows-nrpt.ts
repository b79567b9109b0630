/**
 * Windows's Name Resolution Policy Table as `Get-DnsClientNrptPolicy -Effective` lists it: the
 * rules a VPN (or DirectAccess, or a GPO) installs, which Windows consults before any adapter.
 * A rule with NameServers (or DirectAccessDnsServers) sends names under its namespace there; a
 * rule with neither is an exemption (DirectAccess's network location server): those names resolve
 * as if no rule matched. Namespaces are ".suffix" or a full name (taken as a suffix too: nothing
 * lies below a host name), "." for every name; subnet rules (reverse lookups) are left out.
 */
import { normalizeDomain, parseServer, type OsResolver } from "./os-dns-config.js";

/** Format-List output: "Key : value" lines, blocks apart by blank lines, long values wrapped. */
export function parseFormatList(text: string): Map<string, string>[] {
  const blocks: Map<string, string>[] = [];
  let block: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      block = undefined;
      continue;
    }
    const field = /^(\S[^:]*?)\s*:(?:\s(.*))?$/.exec(line);
    if (field) {
      if (!block) {
        block = new Map();
        blocks.push(block);
      }
      lastKey = field[1] ?? "";
      block.set(lastKey, (field[2] ?? "").trim());
    } else if (block && lastKey !== undefined) {
      block.set(lastKey, `${block.get(lastKey) ?? ""} ${line.trim()}`.trim());
    }
  }
  return blocks;
}

/** "{a, b}" or "a" → ["a", "b"]; "{}" and "" → []. */
export function parseList(value: string | undefined): string[] {
  return (value ?? "")
    .replace(/^\{|\}$/g, "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export function parseNrptPolicy(text: string): OsResolver[] {
  const resolvers: OsResolver[] = [];
  for (const rule of parseFormatList(text)) {
    const namespaces = parseList(rule.get("Namespace")).filter((namespace) => !namespace.includes("/"));
    if (namespaces.length === 0) continue;
    const named = parseList(rule.get("NameServers"));
    const listed = named.length > 0 ? named : parseList(rule.get("DirectAccessDnsServers"));
    const domains = namespaces.map((namespace) => (namespace === "." ? "." : normalizeDomain(namespace)));
    resolvers.push({
      domains,
      servers: listed.flatMap((text) => parseServer(text) ?? []),
      source: `NRPT ${namespaces.join(" ")}`,
    });
  }
  return resolvers;
}
