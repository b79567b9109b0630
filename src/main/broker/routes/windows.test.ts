// Windows reader on recorded output of a desktop on Ethernet with an OpenVPN adapter ("Corp VPN",
// split tunnel over IPv4 and IPv6) and the WSL virtual switch: Get-NetRoute JSON and `route print`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { advertisableRoutes } from "./advertise.js";
import { RouteTableError } from "../../../helper/engines/routes/errors.js";
import { interfaceRoutes } from "./interfaces.js";
import { fixture, fixtureInterfaces, route } from "./test-helpers.js";
import type { RouteEntry } from "../../../helper/engines/routes/types.js";
import { parseNetRouteJson, parseRoutePrint, readWindowsRoutes } from "./windows.js";

const VPN = "Corp VPN";
const WSL = "vEthernet (WSL)";
const LOOPBACK = "Loopback Pseudo-Interface 1";

const netRoutes = [
  route("255.255.255.255/32", VPN),
  route("224.0.0.0/4", VPN),
  route("172.16.0.0/12", VPN, "10.8.0.1"),
  route("10.8.0.255/32", VPN),
  route("10.8.0.14/32", VPN),
  route("10.8.0.0/24", VPN),
  route("10.0.0.0/8", VPN, "10.8.0.1"),
  route("255.255.255.255/32", WSL),
  route("224.0.0.0/4", WSL),
  route("172.29.191.255/32", WSL),
  route("172.29.176.1/32", WSL),
  route("172.29.176.0/20", WSL),
  route("255.255.255.255/32", "Ethernet"),
  route("224.0.0.0/4", "Ethernet"),
  route("192.168.50.255/32", "Ethernet"),
  route("192.168.50.37/32", "Ethernet"),
  route("192.168.50.0/24", "Ethernet"),
  route("0.0.0.0/0", "Ethernet", "192.168.50.1"),
  route("255.255.255.255/32", LOOPBACK),
  route("224.0.0.0/4", LOOPBACK),
  route("127.255.255.255/32", LOOPBACK),
  route("127.0.0.1/32", LOOPBACK),
  route("127.0.0.0/8", LOOPBACK),
  route("ff00::/8", VPN),
  route("fe80::5d1c:7f3a:29e0:b64d/128", VPN),
  route("fe80::/64", VPN),
  route("fd66::/16", VPN, "fd08:8::1"),
  route("fd08:8::1000/128", VPN),
  route("fd08:8::/64", VPN),
  route("ff00::/8", WSL),
  route("fe80::9a41:2c7e:f3d0:1b85/128", WSL),
  route("fe80::/64", WSL),
  route("ff00::/8", "Ethernet"),
  route("fe80::c1e4:8b2d:7a96:3f05/128", "Ethernet"),
  route("fe80::/64", "Ethernet"),
  route("2001:db8:50:1:4d2e:19a7:c3f0:8b61/128", "Ethernet"),
  route("2001:db8:50:1::25/128", "Ethernet"),
  route("2001:db8:50:1::/64", "Ethernet"),
  route("::/0", "Ethernet", "fe80::1"),
  route("ff00::/8", LOOPBACK),
  route("::1/128", LOOPBACK),
];

const routePrint = [
  route("0.0.0.0/0", "Ethernet", "192.168.50.1"),
  route("10.0.0.0/8", VPN, "10.8.0.1"),
  route("10.8.0.0/24", VPN),
  route("10.8.0.14/32", VPN),
  route("10.8.0.255/32", VPN),
  route("127.0.0.0/8", LOOPBACK),
  route("127.0.0.1/32", LOOPBACK),
  route("127.255.255.255/32", LOOPBACK),
  route("172.16.0.0/12", VPN, "10.8.0.1"),
  route("172.29.176.0/20", WSL),
  route("172.29.176.1/32", WSL),
  route("172.29.191.255/32", WSL),
  route("192.168.50.0/24", "Ethernet"),
  route("192.168.50.37/32", "Ethernet"),
  route("192.168.50.255/32", "Ethernet"),
  route("224.0.0.0/4", LOOPBACK),
  route("224.0.0.0/4", "Ethernet"),
  route("224.0.0.0/4", WSL),
  route("224.0.0.0/4", VPN),
  route("255.255.255.255/32", LOOPBACK),
  route("255.255.255.255/32", "Ethernet"),
  route("255.255.255.255/32", WSL),
  route("255.255.255.255/32", VPN),
  route("::/0", "Ethernet", "fe80::1"),
  // The loopback's IPv6 index cannot be told from os.networkInterfaces(): it has no link-local address.
  route("::1/128", null),
  route("2001:db8:50:1::/64", "Ethernet"),
  route("2001:db8:50:1::25/128", "Ethernet"),
  route("2001:db8:50:1:4d2e:19a7:c3f0:8b61/128", "Ethernet"),
  route("fd08:8::/64", VPN),
  route("fd08:8::1000/128", VPN),
  route("fd66::/16", VPN, "fd08:8::1"),
  route("fe80::/64", "Ethernet"),
  route("fe80::/64", WSL),
  route("fe80::/64", VPN),
  route("fe80::c1e4:8b2d:7a96:3f05/128", "Ethernet"),
  route("fe80::9a41:2c7e:f3d0:1b85/128", WSL),
  route("fe80::5d1c:7f3a:29e0:b64d/128", VPN),
  route("ff00::/8", null),
  route("ff00::/8", "Ethernet"),
  route("ff00::/8", WSL),
  route("ff00::/8", VPN),
];

const expectedAdvertised = [
  route("10.0.0.0/8", VPN, "10.8.0.1"),
  // The WSL switch's 172.29.176.0/20 lies inside the VPN's 172.16.0.0/12.
  route("172.16.0.0/12", VPN, "10.8.0.1"),
  route("192.168.50.0/24", "Ethernet"),
  route("2001:db8:50:1::/64", "Ethernet"),
  route("fd08:8::/64", VPN),
  route("fd66::/16", VPN, "fd08:8::1"),
];

const interfaces = fixtureInterfaces("windows/interfaces.json");

function sortedPrefixes(entries: readonly RouteEntry[]): string[] {
  return entries.map((entry) => `${entry.prefix} ${entry.gateway ?? "on-link"}`).sort();
}

describe("parseNetRouteJson", () => {
  it("reads the recorded Get-NetRoute output", () => {
    assert.deepEqual(parseNetRouteJson(fixture("windows/get-netroute.txt")), netRoutes);
  });

  it("accepts a lone object, a byte order mark and empty output; rejects broken JSON", () => {
    const one =
      '\uFEFF{"DestinationPrefix":"10.0.0.0/8","NextHop":"10.8.0.1","InterfaceAlias":"Corp VPN","RouteMetric":1}';
    assert.deepEqual(parseNetRouteJson(one), [route("10.0.0.0/8", VPN, "10.8.0.1")]);
    assert.deepEqual(parseNetRouteJson("\r\n"), []);
    assert.throws(() => parseNetRouteJson("[{"), { name: "RouteTableError", code: "unparsable-output" });
  });
});

describe("parseRoutePrint", () => {
  it("reads the Active Routes of both tables, naming interfaces from os.networkInterfaces()", () => {
    assert.deepEqual(parseRoutePrint(fixture("windows/route-print.txt"), interfaces), routePrint);
  });

  it("finds the same routes as Get-NetRoute", () => {
    assert.deepEqual(sortedPrefixes(routePrint), sortedPrefixes(netRoutes));
  });

  it("reads localized output by the rows' shape", () => {
    const german = [
      "IPv4-Routentabelle",
      "===========================================================================",
      "Aktive Routen:",
      "     Netzwerkziel    Netzwerkmaske          Gateway    Schnittstelle Metrik",
      "          0.0.0.0          0.0.0.0     192.168.50.1    192.168.50.37     25",
      "     192.168.50.0    255.255.255.0   Auf Verbindung    192.168.50.37    281",
      "===========================================================================",
      "Ständige Routen:",
      "  Netzwerkadresse          Netzmaske  Gatewayadresse  Metrik",
      "         10.0.0.0        255.0.0.0         10.8.0.1       1",
      "",
      "IPv6-Routentabelle",
      "===========================================================================",
      "Aktive Routen:",
      " If Metrik Netzwerkziel             Gateway",
      "  7    281 2001:db8:50:1::/64       Auf Verbindung",
      "===========================================================================",
      "Ständige Routen:",
      "  Keine",
    ].join("\r\n");
    assert.deepEqual(parseRoutePrint(german, interfaces), [
      route("0.0.0.0/0", "Ethernet", "192.168.50.1"),
      route("192.168.50.0/24", "Ethernet"),
      route("2001:db8:50:1::/64", "Ethernet"),
    ]);
  });
});

describe("readWindowsRoutes", () => {
  it("asks PowerShell for the active store's routes", async () => {
    const calls: string[][] = [];
    const entries = await readWindowsRoutes(async (file, args) => {
      calls.push([file, ...args]);
      return fixture("windows/get-netroute.txt");
    }, interfaces);
    assert.deepEqual(entries, netRoutes);
    assert.equal(calls.length, 1);
    const [file, ...args] = calls[0] ?? [];
    assert.equal(file, "powershell.exe");
    assert.deepEqual(args.slice(0, 3), ["-NoProfile", "-NonInteractive", "-Command"]);
    assert.match(args[3] ?? "", /Get-NetRoute -PolicyStore ActiveStore/);
  });

  it("falls back to `route print` when PowerShell fails", async () => {
    const entries = await readWindowsRoutes(async (file) => {
      if (file === "powershell.exe") {
        throw new RouteTableError(
          "command-failed",
          "Get-NetRoute : The term 'Get-NetRoute' is not recognized",
        );
      }
      return fixture("windows/route-print.txt");
    }, interfaces);
    assert.deepEqual(entries, routePrint);
  });
});

describe("advertisable routes of the Windows desktop", () => {
  it("are the VPN's networks and the Ethernet LAN, from either source", () => {
    const connected = interfaceRoutes(interfaces);
    assert.deepEqual(advertisableRoutes([...netRoutes, ...connected]), expectedAdvertised);
    assert.deepEqual(advertisableRoutes([...routePrint, ...connected]), expectedAdvertised);
  });
});
