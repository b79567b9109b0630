// The lab the SSH suites of the CLI and the window share: the OpenSSH server in R (server.ts), L's
// resolver at S's DNS server, and S, the private network only L reaches.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { attachPrivateNetwork } from "../fullpath/private-network.js";
import { LAN } from "../netns/address-plan.js";
import type { NetnsLab, NetworkNamespace } from "../netns/index.js";
import { TestSshd } from "./server.js";

/** Starts sshd in R with duplicate address detection off (the link's IPv6 is usable at once). */
export async function startSshdWithPrivateNetwork(lab: NetnsLab, home: string): Promise<TestSshd> {
  const sshd = await TestSshd.start(lab);
  try {
    await sshd.remote.runChecked("sysctl", [
      "-qw",
      "net.ipv6.conf.all.accept_dad=0",
      "net.ipv6.conf.default.accept_dad=0",
    ]);
    writeFileSync(join("/etc/netns", sshd.local.name, "resolv.conf"), `nameserver ${LAN.dns.v4}\n`);
    await attachPrivateNetwork(lab, sshd.local, home);
    return sshd;
  } catch (error) {
    await sshd.cleanup(); // the caller never holds it
    throw error;
  }
}

/**
 * In a describe(): R's sshd with the private network before the suite's tests (`ready` runs once it
 * is up) and, with the lab and `home`, removed after them.
 */
export function sshdForSuite(
  lab: NetnsLab,
  home: string,
  ready: (sshd: TestSshd) => Promise<void> | void,
): void {
  let sshd: TestSshd | undefined;
  before(async () => {
    sshd = await startSshdWithPrivateNetwork(lab, home);
    await ready(sshd);
  });
  after(async () => {
    await sshd?.cleanup();
    await lab.cleanup();
    rmSync(home, { recursive: true, force: true });
  });
}

/** What the agent changes in R: its links, routes (no link-local ones) and resolver file. */
export async function remoteState(remote: NetworkNamespace): Promise<string> {
  const ip = async (args: string[]): Promise<string> => (await remote.runChecked("ip", args)).stdout;
  return JSON.stringify({
    links: (await ip(["-o", "link", "show"])).replace(/\s+link\/\S+.*$/gm, ""),
    routes4: await ip(["-4", "route", "show", "table", "all"]),
    routes6: (await ip(["-6", "route", "show", "table", "all"]))
      .split("\n")
      .filter((line) => !line.includes("fe80"))
      .join("\n"),
    resolvConf: readFileSync(join("/etc/netns", remote.name, "resolv.conf"), "utf8"),
  });
}
