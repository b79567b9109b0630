// This computer's TUN entrance on Windows, as PowerShell commands: the Wintun adapter's address
// and routes with New-NetIPAddress / New-NetRoute (ActiveStore: gone at reboot, like the TUN),
// and each --remote-dns-domain as an NRPT rule (Add-DnsClientNrptRule) naming the remote's
// resolver, so that only names under it change resolvers. Opening the Wintun adapter itself is
// the TunDevice seam's part (tun/open-tun.ts). Built and parsed here, tested on recorded output
// (fixtures/SOURCES.md).
import { parsePrefix } from "../../../shared/ip-prefix.js";
import type { Command } from "./darwin.js";

const POWERSHELL = "powershell.exe";

/** One PowerShell command line; values are single-quoted PowerShell strings. */
function powershell(script: string): Command {
  return { file: POWERSHELL, args: ["-NoProfile", "-NonInteractive", "-Command", script] };
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function checkPrefix(cidr: string): { family: 4 | 6; address: string; length: number } {
  const parsed = parsePrefix(cidr, { bareIsHost: true });
  if (!parsed.ok) throw new TypeError(`not an IP prefix: ${JSON.stringify(cidr)}`);
  return { family: parsed.prefix.family, address: cidr.split("/")[0] ?? "", length: parsed.prefix.length };
}

export function addressCommand(alias: string, local: string): Command {
  const { address, length } = checkPrefix(local);
  return powershell(
    `New-NetIPAddress -InterfaceAlias ${quote(alias)} -IPAddress ${quote(address)} -PrefixLength ${length} -PolicyStore ActiveStore | Out-Null`,
  );
}

export function routeCommand(action: "add" | "delete", prefix: string, alias: string): Command {
  checkPrefix(prefix);
  return powershell(
    action === "add"
      ? `New-NetRoute -DestinationPrefix ${quote(prefix)} -InterfaceAlias ${quote(alias)} -PolicyStore ActiveStore | Out-Null`
      : `Remove-NetRoute -DestinationPrefix ${quote(prefix)} -InterfaceAlias ${quote(alias)} -Confirm:$false`,
  );
}

/** How our rules' comments start; each rule's comment adds an id of its own (dns/nrpt.ts). */
export const NRPT_COMMENT = "backhaul --remote-dns-domain";

/** Adds the rule, with the comment the journal knows it by, and prints it (-PassThru). */
export function nrptAddCommand(domain: string, servers: readonly string[], comment: string): Command {
  // A leading dot makes the namespace a suffix: the domain's names, not only the domain itself.
  const namespace = `.${domain}`;
  return powershell(
    `Add-DnsClientNrptRule -Namespace ${quote(namespace)} -NameServers ${servers.map(quote).join(",")} -Comment ${quote(comment)} -PassThru | Format-List`,
  );
}

export function nrptRemoveCommand(name: string): Command {
  if (!/^\{[0-9A-Fa-f-]{36}\}$/.test(name))
    throw new TypeError(`not an NRPT rule name: ${JSON.stringify(name)}`);
  return powershell(`Remove-DnsClientNrptRule -Name ${quote(name)} -Force`);
}

export function nrptListCommand(): Command {
  return powershell("Get-DnsClientNrptRule | Format-List");
}

export interface NrptRule {
  name: string;
  namespaces: string[];
  nameServers: string[];
  comment: string;
}

/** The rules in Format-List output (Get-DnsClientNrptRule, Add-…-PassThru). */
export function parseNrptRules(output: string): NrptRule[] {
  const rules: NrptRule[] = [];
  for (const block of output.split(/\r?\n\s*\r?\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      const match = /^(\w+)\s*:\s?(.*)$/.exec(line);
      if (match?.[1] !== undefined) {
        last = match[1];
        fields.set(last, (match[2] ?? "").trim());
      } else if (last !== undefined && line.trim() !== "") {
        fields.set(last, `${fields.get(last) ?? ""} ${line.trim()}`); // a wrapped value
      }
    }
    const name = fields.get("Name");
    if (name === undefined) continue;
    const list = (value: string | undefined): string[] =>
      (value ?? "")
        .replace(/^\{|\}$/g, "")
        .split(/[,\s]+/)
        .filter((item) => item !== "");
    rules.push({
      name,
      namespaces: list(fields.get("Namespace")),
      nameServers: list(fields.get("NameServers")),
      comment: fields.get("Comment") ?? "",
    });
  }
  return rules;
}

/** IPv4 default gateways in `route print` output (Active Routes only), "On-link" skipped. */
export function parseRoutePrintDefaultGateways(output: string): string[] {
  const gateways: string[] = [];
  let active = false;
  for (const line of output.split(/\r?\n/)) {
    if (/^Active Routes:/.test(line)) active = true;
    else if (/^Persistent Routes:|^=+$/.test(line.trim()) && active && gateways.length > 0) active = false;
    const match = /^\s*0\.0\.0\.0\s+0\.0\.0\.0\s+(\S+)\s+\S+\s+\d+\s*$/.exec(line);
    if (active && match?.[1] && match[1] !== "On-link" && !gateways.includes(match[1]))
      gateways.push(match[1]);
    const v6 = /^\s*\d+\s+\d+\s+::\/0\s+(\S+)\s*$/.exec(line);
    if (active && v6?.[1] && v6[1] !== "On-link" && !gateways.includes(v6[1])) gateways.push(v6[1]);
  }
  return gateways;
}
