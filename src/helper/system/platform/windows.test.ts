import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  addressCommand,
  nrptAddCommand,
  nrptRemoveCommand,
  parseNrptRules,
  parseRoutePrintDefaultGateways,
  routeCommand,
} from "./windows.js";

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const script = (command: { file: string; args: string[] }): string => {
  assert.equal(command.file, "powershell.exe");
  assert.deepEqual(command.args.slice(0, 3), ["-NoProfile", "-NonInteractive", "-Command"]);
  return command.args[3] ?? "";
};

test("the Wintun adapter's address and routes are ActiveStore PowerShell commands, values quoted", () => {
  assert.equal(
    script(addressCommand("Backhaul", "198.18.0.1/30")),
    "New-NetIPAddress -InterfaceAlias 'Backhaul' -IPAddress '198.18.0.1' -PrefixLength 30 -PolicyStore ActiveStore | Out-Null",
  );
  assert.equal(
    script(routeCommand("add", "198.18.70.0/24", "Backhaul")),
    "New-NetRoute -DestinationPrefix '198.18.70.0/24' -InterfaceAlias 'Backhaul' -PolicyStore ActiveStore | Out-Null",
  );
  assert.equal(
    script(routeCommand("delete", "2001:db8:70::/64", "Back'haul")),
    "Remove-NetRoute -DestinationPrefix '2001:db8:70::/64' -InterfaceAlias 'Back''haul' -Confirm:$false",
  );
  assert.throws(() => routeCommand("add", "198.18.70.0/24; Remove-Item", "Backhaul"), TypeError);
});

test("an NRPT rule per domain: a suffix namespace, the remote's resolvers and our comment", () => {
  assert.equal(
    script(nrptAddCommand("p.test", ["198.18.0.2", "2001:db8:1::2"], "backhaul --remote-dns-domain 0a1b")),
    "Add-DnsClientNrptRule -Namespace '.p.test' -NameServers '198.18.0.2','2001:db8:1::2' -Comment 'backhaul --remote-dns-domain 0a1b' -PassThru | Format-List",
  );
  assert.equal(
    script(nrptRemoveCommand("{BD0629C2-E6C0-48D6-A78E-D23DE63BC36B}")),
    "Remove-DnsClientNrptRule -Name '{BD0629C2-E6C0-48D6-A78E-D23DE63BC36B}' -Force",
  );
  assert.throws(() => nrptRemoveCommand("x'; Remove-Item C:\\"), TypeError);
});

test("Get-DnsClientNrptRule output (recorded): each rule's name, namespaces, servers and comment", () => {
  assert.deepEqual(parseNrptRules(fixture("windows-get-dnsclientnrptrule-manual-1.txt")), [
    {
      name: "{BD0629C2-E6C0-48D6-A78E-D23DE63BC36B}",
      namespaces: ["test.test"],
      nameServers: ["10.0.0.1"],
      comment: "",
    },
  ]);
  const gpo = parseNrptRules(fixture("windows-get-dnsclientnrptrule-directaccess-gpo-1.txt"));
  assert.deepEqual(
    gpo.map((rule) => [rule.name, rule.namespaces, rule.nameServers]),
    [
      ["DA-{FD4B6054-F8C8-4868-94E6-8132AC707DBD}", [".corp.contoso.com"], []],
      ["DA-{274D94E4-E38B-4997-BA9F-84700712C09E}", ["nls.corp.contoso.com"], []],
    ],
    "trailing spaces and empty values as published",
  );
});

test("route print (recorded): the IPv4 default gateways of the active routes only", () => {
  assert.deepEqual(parseRoutePrintDefaultGateways(fixture("windows-route-print-tailscale-1.txt")), [
    "10.211.55.1",
  ]);
  assert.deepEqual(parseRoutePrintDefaultGateways(fixture("windows-route-print-openvpn-tap-1.txt")), [
    "192.168.204.2",
  ]);
});
