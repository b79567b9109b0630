/**
 * Linux with systemd-resolved: `resolvectl status`, the global servers and each link's servers and
 * domains, as resolved routes by them (systemd-resolved.service(8), "Protocols and routing"): a
 * name goes to the links whose domain (search or routing-only `~domain`) is its longest suffix,
 * `~.` matching every name; names no domain matches go to the global servers and every link with
 * DefaultRoute. Read in all three formats seen: `Protocols: +DefaultRoute` (systemd 248+),
 * `Default Route: yes`, and `systemd-resolve --status`'s `DNSOverTLS setting:` lines. Continuation
 * lines (a long domain list) belong to the field above them.
 *
 * Servers resolved reaches over DNS over TLS cannot be asked in plain DNS as it would: such a link
 * is asked through resolved's own stub (127.0.0.53), which then routes the name itself.
 * Fallback servers count only when nothing else has a server, as in resolved.
 */
import { normalizeDomain, parseServer, type OsDnsConfig, type OsResolver } from "./os-dns-config.js";

export const RESOLVECTL_STATUS = { file: "resolvectl", args: ["status", "--no-pager"] } as const;

export const RESOLVED_STUB = { address: "127.0.0.53", port: 53 } as const;

interface Block {
  /** "Global", or the link's interface name. */
  name: string;
  fields: Map<string, string[]>;
}

export function parseResolvectlStatus(text: string): OsDnsConfig {
  const blocks: Block[] = [];
  let block: Block | undefined;
  let lastKey: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const header = /^(?:Global|Link \d+ \(([^)]+)\))\s*$/.exec(line);
    if (header) {
      block = { name: header[1] ?? "Global", fields: new Map() };
      blocks.push(block);
      lastKey = undefined;
      continue;
    }
    if (!block) continue;
    // A key is words before ": " (an IPv6 address has no colon followed by a space).
    const field = /^\s*([A-Za-z][A-Za-z .-]*?):(?:\s+(.*?))?\s*$/.exec(line);
    if (field) {
      lastKey = field[1] ?? "";
      block.fields.set(lastKey, words(field[2] ?? ""));
    } else if (lastKey !== undefined && /^\s/.test(line)) {
      block.fields.get(lastKey)?.push(...words(line));
    }
  }
  const resolvers = blocks.flatMap(toResolvers);
  const searchDomains = blocks.flatMap((b) =>
    (b.fields.get("DNS Domain") ?? []).filter((d) => !d.startsWith("~")).map(normalizeDomain),
  );
  if (resolvers.every((resolver) => resolver.servers.length === 0)) {
    const fallback = blocks.find((b) => b.name === "Global")?.fields.get("Fallback DNS Servers") ?? [];
    const servers = fallback.flatMap((text) => parseServer(text) ?? []);
    if (servers.length > 0) resolvers.push({ domains: [], servers, source: "resolved fallback" });
  }
  return { reader: "resolvectl", resolvers, searchDomains: [...new Set(searchDomains)] };
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== "");
}

function toResolvers(block: Block): OsResolver[] {
  const get = (key: string): string[] => block.fields.get(key) ?? [];
  const scopes = get("Current Scopes");
  if (block.name !== "Global" && scopes.length > 0 && !scopes.includes("DNS")) return [];
  const protocols = get("Protocols");
  const overTls = protocols.includes("+DNSOverTLS") || get("DNSOverTLS setting")[0] === "yes";
  const parsed = get("DNS Servers").flatMap((text) => parseServer(text) ?? []);
  const servers = overTls && parsed.length > 0 ? [{ ...RESOLVED_STUB }] : parsed;
  if (servers.length === 0) return [];
  const listed = get("DNS Domain");
  const domains = listed.map((domain) => (domain === "~." ? "." : normalizeDomain(domain.replace(/^~/, ""))));
  const routingOnly = listed.some((domain) => domain.startsWith("~") && domain !== "~.");
  const defaultRoute = isDefaultRoute(block, protocols) ?? (block.name === "Global" || !routingOnly);
  const source = block.name === "Global" ? "resolved global" : `resolved link ${block.name}`;
  const link = block.name === "Global" ? {} : { interface: block.name };
  const resolvers: OsResolver[] = [];
  if (domains.length > 0)
    resolvers.push({ domains: domains.filter((d) => d !== ""), servers, source, ...link });
  if (defaultRoute) resolvers.push({ domains: [], servers, source, ...link });
  return resolvers;
}

/** The link's DefaultRoute as resolvectl prints it, in whichever format; undefined if it does not. */
function isDefaultRoute(block: Block, protocols: string[]): boolean | undefined {
  if (protocols.includes("+DefaultRoute")) return true;
  if (protocols.includes("-DefaultRoute")) return false;
  const setting = block.fields.get("Default Route")?.[0] ?? block.fields.get("DefaultRoute setting")?.[0];
  return setting === undefined ? undefined : setting === "yes";
}
