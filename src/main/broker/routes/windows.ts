// Windows: Get-NetRoute through PowerShell (JSON), and `route print` where PowerShell or its
// NetTCPIP module is unavailable. `route print` is localized, so rows are recognised by their
// shape, never by header words.
import ipaddr from "ipaddr.js";
import { formatAddress, parseAddress } from "../../../helper/engines/routes/cidr.js";
import {
  destinationPrefix,
  gatewayAddress,
  makeEntry,
  withoutZone,
} from "../../../helper/engines/routes/entry.js";
import { RouteTableError } from "../../../helper/engines/routes/errors.js";
import type { InterfaceMap, ReadRouteTable, RouteEntry } from "../../../helper/engines/routes/types.js";

// ActiveStore only: the persistent store repeats routes, some for adapters that are down.
// The console's code page would mangle non-ASCII adapter names, hence UTF-8 output.
const GET_NET_ROUTE = [
  "[Console]::OutputEncoding = [Text.Encoding]::UTF8;",
  "ConvertTo-Json -Compress -InputObject @(Get-NetRoute -PolicyStore ActiveStore -ErrorAction Stop",
  "| Select-Object DestinationPrefix,NextHop,InterfaceAlias,RouteMetric)",
].join(" ");

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses Get-NetRoute's objects; a lone object (ConvertTo-Json without an array) is accepted too. */
export function parseNetRouteJson(text: string): RouteEntry[] {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    throw new RouteTableError("unparsable-output", "Get-NetRoute printed invalid JSON", { cause: error });
  }
  const entries: RouteEntry[] = [];
  for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
    if (!isRecord(item)) continue;
    const destination = item["DestinationPrefix"];
    if (typeof destination !== "string") continue;
    const prefix = destinationPrefix(destination, 4) ?? destinationPrefix(destination, 6);
    if (prefix === null) continue;
    const alias = item["InterfaceAlias"];
    const nextHop = item["NextHop"];
    entries.push(
      makeEntry(
        prefix,
        typeof alias === "string" ? alias : null,
        gatewayAddress(typeof nextHop === "string" ? nextHop : null),
        "route-table",
      ),
    );
  }
  return entries;
}

interface InterfaceHints {
  /** IPv4 rows name their interface by its address. */
  byAddress: Map<string, string>;
  /** IPv6 rows name it by index, which is the scope id of its link-local address. */
  byIndex: Map<number, string>;
}

function interfaceHints(interfaces: InterfaceMap): InterfaceHints {
  const hints: InterfaceHints = { byAddress: new Map(), byIndex: new Map() };
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      const address = parseAddress(withoutZone(info.address));
      if (address !== null) hints.byAddress.set(formatAddress(address.value, address.family), name);
      if (info.family === "IPv6" && info.scopeid !== undefined && info.scopeid > 0) {
        hints.byIndex.set(info.scopeid, name);
      }
    }
  }
  return hints;
}

function ipv4Row(tokens: readonly string[], hints: InterfaceHints): RouteEntry | null {
  const [destination, mask] = tokens;
  const iface = tokens.at(-2);
  const metric = tokens.at(-1);
  if (tokens.length < 5 || destination === undefined || mask === undefined || iface === undefined)
    return null;
  if (!ipaddr.IPv4.isValidFourPartDecimal(mask) || !/^\d+$/.test(metric ?? "")) return null;
  const length = ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask();
  const prefix = length === null ? null : destinationPrefix(`${destination}/${length}`, 4);
  if (prefix === null) return null;
  // The gateway column is an address or a localized word or two ("On-link", "Auf Verbindung").
  const gateway = gatewayAddress(tokens.slice(2, -2).join(" "));
  return makeEntry(prefix, hints.byAddress.get(iface) ?? null, gateway, "route-table");
}

/** Parses `route print`: the Active Routes of its IPv4 and IPv6 tables; Persistent Routes are skipped. */
export function parseRoutePrint(text: string, interfaces: InterfaceMap): RouteEntry[] {
  const hints = interfaceHints(interfaces);
  const entries: RouteEntry[] = [];
  const lines = text.split(/\r?\n/);
  let family: 4 | 6 | null = null;
  // Each table has two titled lists, "Active Routes:" then "Persistent Routes:".
  let listsSeen = 0;
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? "").trim();
    const tokens = trimmed.split(/\s+/);
    if (trimmed.includes("IPv4") || trimmed.includes("IPv6")) {
      family = trimmed.includes("IPv4") ? 4 : 6;
      listsSeen = 0;
    } else if (trimmed.endsWith(":")) {
      listsSeen++;
    } else if (family === 4 && listsSeen === 1) {
      const entry = ipv4Row(tokens, hints);
      if (entry !== null) entries.push(entry);
    } else if (
      family === 6 &&
      listsSeen === 1 &&
      /^\d+$/.test(tokens[0] ?? "") &&
      /^\d+$/.test(tokens[1] ?? "")
    ) {
      const prefix = destinationPrefix(tokens[2] ?? "", 6);
      if (prefix === null) continue;
      // A long destination pushes the gateway onto the next line.
      let gateway = tokens.slice(3).join(" ");
      if (gateway === "") gateway = (lines[++i] ?? "").trim();
      const iface = hints.byIndex.get(Number(tokens[0])) ?? null;
      entries.push(makeEntry(prefix, iface, gatewayAddress(gateway), "route-table"));
    }
  }
  return entries;
}

export const readWindowsRoutes: ReadRouteTable = async (run, interfaces) => {
  try {
    const output = await run("powershell.exe", ["-NoProfile", "-NonInteractive", "-Command", GET_NET_ROUTE]);
    return parseNetRouteJson(output);
  } catch (error) {
    // Get-NetRoute needs Windows 8 and an unrestricted PowerShell; `route print` is always there.
    if (!(error instanceof RouteTableError)) throw error;
    return parseRoutePrint(await run("route.exe", ["print"]), interfaces);
  }
};
