// L with S behind it, and remotes r1 and r2 each entered by an `exec:` command saved in the window's
// settings under its name: what the suites of two sessions at once set up the same way.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before } from "node:test";
import { attachPrivateNetwork } from "../fullpath/private-network.js";
import { LAN } from "../netns/address-plan.js";
import { NetnsLab, type NetworkNamespace } from "../netns/index.js";
import { remoteState } from "../sshd/private-lab.js";
import { cliInHome, privateRunShell } from "./command.js";
import { Cli } from "./json-cli.js";

export type RemoteName = "r1" | "r2";

export interface ExecRemote {
  name: RemoteName;
  ns: NetworkNamespace;
  /** R as the agent found it (sshd/private-lab.ts remoteState). */
  before: string;
}

export interface ExecRemotesSuite {
  lab: NetnsLab;
  /** r1 and r2, once the suite's before() has run. */
  remotes: ExecRemote[];
  readonly local: NetworkNamespace;
  /** `backhaul connect NAME --json` in L to `remote`, with S's route and this Node on R; `options` too. */
  connect(remote: ExecRemote, options: readonly string[]): Cli;
}

/**
 * In the suite's before(): L (S behind it, its resolver LAN's) with a home, and r1 and r2, `setUp`
 * run for each before its shell command is saved; the lab removed after the suite. Each remote's
 * shell gets a private /run of its own: two agents on one machine must not share a journal and lock.
 */
export function execRemotesForSuite(
  prefix: string,
  setUp: (name: RemoteName, ns: NetworkNamespace, lab: NetnsLab) => Promise<void> = async () => undefined,
): ExecRemotesSuite {
  const lab = new NetnsLab();
  const remotes: ExecRemote[] = [];
  let started: { local: NetworkNamespace; home: string } | undefined;
  const inL = () => {
    if (!started) throw new Error("L starts in the suite's before(): use it inside a test");
    return started;
  };
  before(async () => {
    const home = lab.tempDir(`${prefix}-home-`);
    const local = await lab.createNamespace("l", { resolvConf: `nameserver ${LAN.dns.v4}\n` });
    await attachPrivateNetwork(lab, local, home);
    const execTargets = [];
    for (const name of ["r1", "r2"] as const) {
      const ns = await lab.createNamespace(name);
      await setUp(name, ns, lab);
      const runDir = lab.tempDir(`${prefix}-${name}-run-`);
      const remoteHome = lab.tempDir(`${prefix}-${name}-home-`);
      execTargets.push({
        name,
        command: privateRunShell(ns.name, runDir, ["env", `HOME=${remoteHome}`, "sh"]),
      });
      remotes.push({ name, ns, before: await remoteState(ns) });
    }
    // The window's settings, where `connect r1` finds its command.
    await mkdir(join(home, ".config", "backhaul"), { recursive: true });
    await writeFile(join(home, ".config", "backhaul", "settings.json"), JSON.stringify({ execTargets }));
    started = { local, home };
  });
  after(() => lab.cleanup());
  return {
    lab,
    remotes,
    get local() {
      return inL().local;
    },
    connect: (remote, options) =>
      new Cli(
        inL().local.spawn(
          "env",
          cliInHome(inL().home, [
            "connect",
            remote.name,
            "--route",
            "198.19.0.0/16",
            "--remote-node",
            process.execPath,
            ...options,
            "--json",
          ]),
        ),
      ),
  };
}
