/**
 * Windows's per-adapter DNS: servers from `Get-DnsClientServerAddress` (its table), connection
 * suffixes, media state and the fallback server list from `ipconfig /all`, the search list from
 * `Get-DnsClientGlobalSetting` (or ipconfig's header). ipconfig's labels are localized: on a
 * non-English Windows only the cmdlets' parts are read, which still gives servers and the search
 * list; adapter suffixes then go missing.
 */
import type { Upstream } from "../upstream.js";
import { normalizeDomain, parseServer } from "./os-dns-config.js";
import { parseFormatList, parseList } from "./windows-nrpt.js";

export interface WindowsAdapter {
  /** The interface alias ("Ethernet 2", "Wi-Fi"). */
  name: string;
  servers: Upstream[];
  /** The connection-specific DNS suffix, normalized; "" when none. */
  suffix: string;
  disconnected: boolean;
}

/**
 * The placeholder servers Windows lists on an IPv6 adapter nobody configured (RFC 3513's
 * deprecated site-local well-known resolvers): nothing answers there.
 */
const PLACEHOLDER = /^fec0:0:0:ffff::[123](%\d+)?$/i;

function serverList(texts: string[]): Upstream[] {
  return texts.filter((text) => !PLACEHOLDER.test(text)).flatMap((text) => parseServer(text) ?? []);
}

/**
 * `Get-DnsClientServerAddress`'s table: columns where the dash line under the header puts them
 * (aliases hold spaces, the index is right-aligned). One row per adapter and family; the
 * loopback pseudo-interface is left out.
 */
export function parseDnsClientServerAddress(text: string): Map<string, Upstream[]> {
  const lines = text.split(/\r?\n/);
  const dashes = lines.findIndex((line) => /^-+\s+-+/.test(line));
  const byAlias = new Map<string, Upstream[]>();
  if (dashes < 0) return byAlias;
  const starts = [...(lines[dashes] ?? "").matchAll(/-+/g)].map((match) => match.index);
  const serversAt = starts[3];
  const indexAt = starts[1];
  if (serversAt === undefined || indexAt === undefined) return byAlias;
  for (const line of lines.slice(dashes + 1)) {
    if (line.trim() === "") continue;
    const alias = line.slice(0, indexAt).trim();
    if (alias === "" || /^Loopback Pseudo-Interface/i.test(alias)) continue;
    const servers = serverList(parseList(line.slice(serversAt).trim()));
    byAlias.set(alias, [...(byAlias.get(alias) ?? []), ...servers]);
  }
  return byAlias;
}

export interface IpconfigAll {
  adapters: WindowsAdapter[];
  primarySuffix: string;
  searchList: string[];
}

/**
 * `ipconfig /all`: the "Windows IP Configuration" header, then one section per adapter
 * ("Ethernet adapter Ethernet 2:"). Fields are "   Label . . . : value" at three spaces; deeper
 * lines continue the field above (a second server, a wrapped search list).
 */
export function parseIpconfigAll(text: string): IpconfigAll {
  const sections: { name: string | null; fields: Map<string, string[]> }[] = [];
  let section: (typeof sections)[number] | undefined;
  let lastLabel: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const header = /^\S.*?(?: adapter (.+?))?:?\s*$/.exec(line);
    if (header) {
      section = { name: header[1] ?? null, fields: new Map() };
      sections.push(section);
      lastLabel = undefined;
      continue;
    }
    if (!section) continue;
    const field = /^ {3}(\S[^:]*?)[\s.]*:\s*(.*?)\s*$/.exec(line);
    if (field) {
      lastLabel = field[1] ?? "";
      section.fields.set(lastLabel, field[2] === "" || field[2] === undefined ? [] : [field[2]]);
    } else if (lastLabel !== undefined) {
      section.fields.get(lastLabel)?.push(line.trim());
    }
  }
  const global = sections.find((s) => s.name === null)?.fields;
  const adapters = sections.flatMap((s) => {
    if (s.name === null) return [];
    const get = (label: string): string[] => s.fields.get(label) ?? [];
    return [
      {
        name: s.name,
        servers: serverList(get("DNS Servers")),
        suffix: normalizeDomain(get("Connection-specific DNS Suffix")[0] ?? ""),
        disconnected: get("Media State").some((state) => /disconnected/i.test(state)),
      },
    ];
  });
  return {
    adapters,
    primarySuffix: normalizeDomain(global?.get("Primary Dns Suffix")?.[0] ?? ""),
    searchList: (global?.get("DNS Suffix Search List") ?? []).map(normalizeDomain).filter((d) => d !== ""),
  };
}

/** `Get-DnsClientGlobalSetting`'s SuffixSearchList. */
export function parseDnsClientGlobalSetting(text: string): string[] {
  const [setting] = parseFormatList(text);
  return parseList(setting?.get("SuffixSearchList"))
    .map(normalizeDomain)
    .filter((d) => d !== "");
}
