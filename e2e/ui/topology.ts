/**
 * The browser-mode lab: namespace L is "this computer" (its resolver is S's dnsmasq), S the
 * private network only L reaches (e2e/fullpath/private-network.ts), and `backhaul ui` runs in L.
 * Its sandbox target builds the namespace that plays the remote; that namespace is mounted in the
 * UI process's mount namespace only (it was made under `ip netns exec L`), so commands reach it
 * through `nsenter --mount` into the UI process.
 *
 *   L: on LAN and CORP_NET; S: LAN.dns (dnsmasq, corp.test), CORP_NET.host = host.corp.test
 *   link (sandbox <-> L): UI_LINK_SUBNET (addresses: e2e/netns/address-plan.ts)
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { CLI, uiUrl } from "../cli/command.js";
import { attachPrivateNetwork } from "../fullpath/private-network.js";
import { LAN, UI_LINK_SUBNET } from "../netns/address-plan.js";
import {
  NetnsLab,
  runCommand,
  type CommandResult,
  type ManagedProcess,
  type NetworkNamespace,
} from "../netns/index.js";

export { CLI } from "../cli/command.js";

export interface UiLab {
  lab: NetnsLab;
  local: NetworkNamespace;
  server: NetworkNamespace;
  ui: ManagedProcess;
  /** The URL `backhaul ui` printed, with its token. */
  url: string;
  /** bh-sandbox-<pid of the UI process>. */
  sandboxName: string;
  /** The UI's Downloads folder ($XDG_DOWNLOAD_DIR), where "Record packets" saves: in the lab's directory. */
  downloadsDir: string;
  /** Everything the UI wrote to stderr so far (its log). */
  log(): string;
  /** Runs a command in the sandbox namespace, as the remote's user would. */
  inSandbox(file: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
  /** The sandbox namespaces the UI process sees. */
  sandboxNamespaces(): Promise<string[]>;
  /** SIGTERM to the UI: it disconnects, restores the sandbox, and exits. */
  stopUi(timeoutMs: number): Promise<number | null>;
  cleanup(): Promise<void>;
}

export function buildUiLab(): Promise<UiLab> {
  return NetnsLab.build(async (lab) => {
    const dir = lab.tempDir("backhaul-ui-lab-");
    const local = await lab.createNamespace("l", { resolvConf: `nameserver ${LAN.dns.v4}\n` });
    const server = await attachPrivateNetwork(lab, local, dir);
    const downloadsDir = join(dir, "downloads");
    const ui = local.spawn(
      process.execPath,
      [
        CLI,
        "ui",
        "--port",
        "0",
        "--data-dir",
        join(dir, "data"),
        "--link-subnet",
        UI_LINK_SUBNET.network.v4,
        "--link-subnet6",
        UI_LINK_SUBNET.network.v6,
      ],
      { env: { ...process.env, XDG_DOWNLOAD_DIR: downloadsDir } },
    );
    const pid = ui.pid;
    if (pid === undefined) throw new Error("backhaul ui did not start");
    const sandboxName = `bh-sandbox-${pid}`;
    // Only if the UI died without removing its sandbox: its /etc/netns folder and mount point.
    lab.onCleanup("last", async () => {
      await rm(join("/etc/netns", sandboxName), { recursive: true, force: true });
      await rm(join("/run/netns", sandboxName), { force: true }).catch(() => undefined);
    });
    const { url, log } = await uiUrl(ui);
    const inUiMounts = (file: string, args: readonly string[], timeoutMs = 15_000): Promise<CommandResult> =>
      runCommand("nsenter", ["--target", String(pid), "--mount", "--", file, ...args], { timeoutMs });
    return {
      lab,
      local,
      server,
      ui,
      url,
      sandboxName,
      downloadsDir,
      log,
      inSandbox: (file, args, timeoutMs) =>
        inUiMounts("ip", ["netns", "exec", sandboxName, file, ...args], timeoutMs),
      sandboxNamespaces: async () => {
        if (ui.hasExited) return [];
        const result = await inUiMounts("ip", ["netns", "list"]);
        return result.stdout
          .split("\n")
          .map((line) => line.split(" ")[0] ?? "")
          .filter((name) => name.startsWith("bh-sandbox-"));
      },
      stopUi: async (timeoutMs) => {
        if (!ui.hasExited) process.kill(pid, "SIGTERM");
        return (await ui.waitForExit(timeoutMs)).code;
      },
      cleanup: () => lab.cleanup(),
    };
  });
}
