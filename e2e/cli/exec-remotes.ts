// L with S behind it, and remotes each entered by an `exec:` command saved in the window's settings
// under its name: what the suites of several sessions at once set up the same way.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { attachPrivateNetwork } from "../fullpath/private-network.js";
import { LAN } from "../netns/address-plan.js";
import type { NetnsLab, NetworkNamespace } from "../netns/index.js";
import { privateRunShell } from "./command.js";

/**
 * Creates L (S behind it, its resolver LAN's) with a home, and a namespace per name in `names`;
 * `setUp` runs for each before its shell command is saved. Each remote's shell gets a private /run
 * of its own: two agents on one machine must not share a journal and a lock.
 */
export async function localWithExecRemotes<Name extends string>(
  lab: NetnsLab,
  prefix: string,
  names: readonly Name[],
  setUp: (name: Name, ns: NetworkNamespace) => Promise<void> = async () => undefined,
): Promise<{ local: NetworkNamespace; home: string; remotes: { name: Name; ns: NetworkNamespace }[] }> {
  const home = lab.tempDir(`${prefix}-home-`);
  const local = await lab.createNamespace("l", { resolvConf: `nameserver ${LAN.dns.v4}\n` });
  await attachPrivateNetwork(lab, local, home);
  const remotes = [];
  const execTargets = [];
  for (const name of names) {
    const ns = await lab.createNamespace(name);
    await setUp(name, ns);
    const runDir = lab.tempDir(`${prefix}-${name}-run-`);
    const remoteHome = lab.tempDir(`${prefix}-${name}-home-`);
    execTargets.push({
      name,
      command: privateRunShell(ns.name, runDir, ["env", `HOME=${remoteHome}`, "sh"]),
    });
    remotes.push({ name, ns });
  }
  // The window's settings, where `connect r1` finds its command.
  await mkdir(join(home, ".config", "backhaul"), { recursive: true });
  await writeFile(join(home, ".config", "backhaul", "settings.json"), JSON.stringify({ execTargets }));
  return { local, home, remotes };
}
