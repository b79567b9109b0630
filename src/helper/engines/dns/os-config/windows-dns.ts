/**
 * Windows: the NRPT first, then the adapters, as the DNS client does. A name an NRPT rule covers
 * goes to that rule's servers (an adapter suffix under a rule's namespace therefore routes
 * nothing). Otherwise Windows asks the preferred adapter's servers and then the others', taking
 * the first positive answer; the adapter whose connection-specific suffix the name falls under is
 * the one that answers it positively (a VPN's suffix and servers), so it is asked first; other
 * names go to every connected adapter's servers in the order ipconfig lists the adapters.
 * Interface metrics are not read: that order stands in for them.
 */
import { uniqueDomains, type OsDnsConfig, type OsResolver } from "./os-dns-config.js";
import {
  parseDnsClientGlobalSetting,
  parseDnsClientServerAddress,
  parseIpconfigAll,
  type WindowsAdapter,
} from "./windows-adapters.js";
import { parseNrptPolicy } from "./windows-nrpt.js";

export interface WindowsDnsOutputs {
  /** `Get-DnsClientNrptPolicy -Effective`, Format-List. */
  nrpt?: string;
  /** `Get-DnsClientServerAddress`, Format-Table. */
  servers?: string;
  /** `Get-DnsClientGlobalSetting`, Format-List. */
  global?: string;
  /** `ipconfig /all`. */
  ipconfig?: string;
}

/** Section markers between the outputs of WINDOWS_DNS_SCRIPT. */
const MARK = "### backhaul ";

/**
 * One PowerShell run for every part (a PowerShell start costs about a second). Wide output and
 * no enumeration limit, so that no list is cut with "..."; UTF-8 for adapter names.
 */
export const WINDOWS_DNS_COMMAND = {
  file: "powershell.exe",
  args: [
    "-NoProfile",
    "-NonInteractive",
    "-Command",
    [
      "[Console]::OutputEncoding = [Text.Encoding]::UTF8; $FormatEnumerationLimit = -1;",
      `'${MARK}nrpt'; Get-DnsClientNrptPolicy -Effective | Out-String -Width 4096;`,
      `'${MARK}servers'; Get-DnsClientServerAddress | Format-Table -AutoSize | Out-String -Width 4096;`,
      `'${MARK}global'; Get-DnsClientGlobalSetting | Out-String -Width 4096;`,
      `'${MARK}ipconfig'; ipconfig /all`,
    ].join(" "),
  ],
} as const;

/** Splits WINDOWS_DNS_COMMAND's output into its parts. */
export function splitWindowsDnsOutput(text: string): WindowsDnsOutputs {
  const outputs: WindowsDnsOutputs = {};
  const parts = text.split(new RegExp(`^${MARK}`, "m"));
  for (const part of parts.slice(1)) {
    const newline = part.indexOf("\n");
    const name = part.slice(0, newline < 0 ? undefined : newline).trim();
    const body = newline < 0 ? "" : part.slice(newline + 1);
    if (name === "nrpt" || name === "servers" || name === "global" || name === "ipconfig")
      outputs[name] = body;
  }
  return outputs;
}

export function windowsDnsConfig(outputs: WindowsDnsOutputs): OsDnsConfig {
  const nrpt = parseNrptPolicy(outputs.nrpt ?? "");
  const ipconfig = parseIpconfigAll(outputs.ipconfig ?? "");
  const adapters = mergeServers(ipconfig.adapters, parseDnsClientServerAddress(outputs.servers ?? ""));
  const ruled = (suffix: string): boolean =>
    nrpt.some((rule) => rule.domains.some((d) => d === "." || suffix === d || suffix.endsWith(`.${d}`)));
  const resolvers: OsResolver[] = [...nrpt];
  const connected = adapters.filter((adapter) => !adapter.disconnected && adapter.servers.length > 0);
  for (const adapter of connected) {
    if (adapter.suffix !== "" && !ruled(adapter.suffix)) {
      resolvers.push({
        domains: [adapter.suffix],
        servers: adapter.servers,
        interface: adapter.name,
        source: "adapter suffix",
      });
    }
  }
  for (const adapter of connected) {
    resolvers.push({ domains: [], servers: adapter.servers, interface: adapter.name, source: "adapter" });
  }
  // The global list when set; else what Windows builds: the primary suffix and the adapters'.
  const global = parseDnsClientGlobalSetting(outputs.global ?? "");
  const searchDomains =
    global.length > 0
      ? global
      : ipconfig.searchList.length > 0
        ? ipconfig.searchList
        : uniqueDomains([ipconfig.primarySuffix, ...connected.map((adapter) => adapter.suffix)]);
  return { reader: "windows", resolvers, searchDomains };
}

/** The cmdlet's servers win over ipconfig's (not localized); adapters only it lists come last. */
function mergeServers(
  adapters: WindowsAdapter[],
  byAlias: Map<string, WindowsAdapter["servers"]>,
): WindowsAdapter[] {
  const merged = adapters.map((adapter) => {
    const servers = byAlias.get(adapter.name);
    return servers === undefined ? adapter : { ...adapter, servers };
  });
  for (const [name, servers] of byAlias) {
    if (!adapters.some((adapter) => adapter.name === name))
      merged.push({ name, servers, suffix: "", disconnected: false });
  }
  return merged;
}
