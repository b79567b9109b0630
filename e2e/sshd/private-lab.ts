// The lab the SSH suites of the CLI and the window share: the OpenSSH server in R (server.ts), L's
// resolver at S's DNS server, and S, the private network only L reaches.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { attachPrivateNetwork } from "../fullpath/private-network.js";
import { LAN } from "../netns/address-plan.js";
import { NetnsLab, type NetworkNamespace } from "../netns/index.js";
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

/** R's sshd with the private network, as a describe()'s tests use it. */
export interface SshdSuite {
  /** The CLI's home directory in L (a temp directory). */
  readonly home: string;
  /** These three exist once the suite's before() has run: inside its tests. */
  readonly sshd: TestSshd;
  readonly remote: NetworkNamespace;
  readonly local: NetworkNamespace;
}

/**
 * In a describe(): R's sshd with the private network and a home in `homePrefix`, started before
 * the suite's tests (`ready` runs once it is up) and removed, with its lab, after them.
 */
export function sshdForSuite(homePrefix: string, ready?: () => Promise<void> | void): SshdSuite {
  const lab = new NetnsLab();
  const home = mkdtempSync(join(tmpdir(), homePrefix));
  let started: TestSshd | undefined;
  const sshd = (): TestSshd => {
    if (!started) throw new Error("R's sshd starts in the suite's before(): use it inside a test");
    return started;
  };
  before(async () => {
    started = await startSshdWithPrivateNetwork(lab, home);
    await ready?.();
  });
  after(async () => {
    await started?.cleanup();
    await lab.cleanup();
    rmSync(home, { recursive: true, force: true });
  });
  return {
    home,
    get sshd() {
      return sshd();
    },
    get remote() {
      return sshd().remote;
    },
    get local() {
      return sshd().local;
    },
  };
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
