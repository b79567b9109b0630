// This computer's entrance on macOS and Windows, run here with their commands recorded and a TUN
// that stands in for utun and Wintun: the same journal, the same order, and an undo that takes
// back every change. (Linux runs for real in e2e/local-entrance.test.ts.)
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { RecordingPort } from "../engines/port/testing.js";
import { recordingRunner, StandInTun, tempDir } from "../system/testing.js";
import { LocalEntrance } from "./local-entrance.js";
import { platformSystem } from "./local-system.js";

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ dir, remove } = await tempDir()));
afterEach(() => remove());

const NETSTAT =
  "Routing tables\n\nInternet:\nDestination        Gateway            Flags        Netif Expire\ndefault            198.18.9.1         UGScg          en0\n";
const ROUTE_PRINT =
  "Active Routes:\nNetwork Destination        Netmask          Gateway       Interface  Metric\n          0.0.0.0          0.0.0.0      198.18.9.1      198.18.9.5     25\n";

test("macOS: utun addressed, routes added and removed with route(8), a resolver file per domain", async () => {
  const tun = new StandInTun("utun7", 65520);
  const runner = recordingRunner((command) =>
    command.startsWith("netstat") ? { stdout: NETSTAT } : undefined,
  );
  const resolverDir = join(dir, "resolver");
  const entrance = await LocalEntrance.open({
    journalDir: join(dir, "journal"),
    subnetV4: "198.18.0.0/30",
    subnetV6: "2001:db8:1::/64",
    mtu: 65520,
    routes: ["198.18.70.0/24", "2001:db8:70::/64"],
    dnsDomains: ["P.test"],
    port: new RecordingPort(),
    log: () => {},
    run: runner.run,
    system: platformSystem("darwin", { run: runner.run, open: () => Promise.resolve(tun), resolverDir }),
  });
  assert.deepEqual(entrance.info, {
    tun: "utun7",
    routes: ["198.18.70.0/24", "2001:db8:70::/64"],
    dns: "resolver-files",
  });
  assert.match(
    await readFile(join(resolverDir, "p.test"), "utf8"),
    /^nameserver 198\.18\.0\.2\nnameserver 2001:db8:1::2$/m,
  );
  await assert.rejects(
    LocalEntrance.open({
      journalDir: join(dir, "journal"),
      subnetV4: "198.18.0.4/30",
      subnetV6: null,
      mtu: 1500,
      routes: ["198.18.8.0/22"],
      dnsDomains: [],
      port: new RecordingPort(),
      log: () => {},
      run: runner.run,
      system: platformSystem("darwin", { run: runner.run, open: () => Promise.reject(new Error("unused")) }),
    }),
    /holds 198\.18\.9\.1, the gateway of this computer's default route/,
  );
  const report = await entrance.close();
  assert.deepEqual(report.failed, []);
  assert.equal(tun.closed, true);
  assert.deepEqual(await readdir(resolverDir), []);
  assert.deepEqual(runner.calls, [
    "netstat -rn",
    "ifconfig utun7 inet 198.18.0.1 198.18.0.2 netmask 255.255.255.252 mtu 65520 up",
    "ifconfig utun7 inet6 2001:db8:1::1 prefixlen 64 alias",
    "route -n add -inet 198.18.70.0/24 -interface utun7",
    "route -n add -inet6 2001:db8:70::/64 -interface utun7",
    "netstat -rn",
    "route -n delete -inet6 2001:db8:70::/64 -interface utun7",
    "route -n delete -inet 198.18.70.0/24 -interface utun7",
  ]);
});

test("Windows: the Wintun adapter's address and routes in PowerShell, an NRPT rule per domain, all undone", async () => {
  const tun = new StandInTun("Backhaul", 65520);
  let comment = "";
  const runner = recordingRunner((command) => {
    if (command === "route print") return { stdout: ROUTE_PRINT };
    comment = /-Comment '([^']+)'/.exec(command)?.[1] ?? comment;
    if (command.includes("Get-DnsClientNrptRule"))
      return {
        stdout: `Name : {BD0629C2-E6C0-48D6-A78E-D23DE63BC36B}\nNamespace : {.p.test}\nNameServers : 198.18.0.2\nComment : ${comment}\n`,
      };
    return undefined;
  });
  const entrance = await LocalEntrance.open({
    journalDir: join(dir, "journal"),
    subnetV4: "198.18.0.0/30",
    subnetV6: null,
    mtu: 65520,
    routes: ["198.18.70.0/24"],
    dnsDomains: ["p.test"],
    port: new RecordingPort(),
    log: () => {},
    run: runner.run,
    system: platformSystem("win32", { run: runner.run, open: () => Promise.resolve(tun) }),
  });
  assert.equal(entrance.info.dns, "nrpt");
  assert.deepEqual((await entrance.close()).failed, []);
  assert.equal(tun.closed, true);
  const scripts = runner.calls.map((call) =>
    call.replace("powershell.exe -NoProfile -NonInteractive -Command ", ""),
  );
  assert.deepEqual(scripts, [
    "route print",
    "New-NetIPAddress -InterfaceAlias 'Backhaul' -IPAddress '198.18.0.1' -PrefixLength 30 -PolicyStore ActiveStore | Out-Null",
    "New-NetRoute -DestinationPrefix '198.18.70.0/24' -InterfaceAlias 'Backhaul' -PolicyStore ActiveStore | Out-Null",
    `Add-DnsClientNrptRule -Namespace '.p.test' -NameServers '198.18.0.2' -Comment '${comment}' -PassThru | Format-List`,
    "Get-DnsClientNrptRule | Format-List",
    "Remove-DnsClientNrptRule -Name '{BD0629C2-E6C0-48D6-A78E-D23DE63BC36B}' -Force",
    "Remove-NetRoute -DestinationPrefix '198.18.70.0/24' -InterfaceAlias 'Backhaul' -Confirm:$false",
  ]);
});
