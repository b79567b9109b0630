/**
 * "This computer (sandbox)": a throwaway network namespace on this computer plays the remote, so
 * a newcomer can watch Backhaul work without a codespace. Linux and root only. The agent runs in
 * the namespace exactly as it would on a remote (its TUN, routes and resolver change stay in
 * there), its stdio is the link, and the namespace is deleted after the agent has exited.
 *
 * Safety: /etc/netns/NAME/resolv.conf is written before anything runs in the namespace, so the
 * agent's resolver change lands there (`ip netns exec` bind-mounts it over /etc/resolv.conf)
 * and never in this computer's own /etc/resolv.conf.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { runCommand } from "../../helper/engines/run-command.js";
import type { ConnectStep } from "../../shared/api.js";
import type { AgentTransport } from "../broker/session.js";

export const SANDBOX_TARGET_ID = "sandbox";
export const SANDBOX_LABEL = "This computer (sandbox)";

const NETNS_ETC = "/etc/netns";
const COMMAND_TIMEOUT_MS = 10_000;
/** How long the agent has to restore the namespace after its link ends, before it is killed. */
const AGENT_EXIT_TIMEOUT_MS = 15_000;

export function agentPath(distDir: string): string {
  return join(distDir, "agent", "backhaul-agent.cjs");
}

/** Why the sandbox cannot run here, or null when it can. */
export async function sandboxUnavailable(distDir: string): Promise<string | null> {
  if (process.platform !== "linux") return "the sandbox needs Linux network namespaces";
  if (process.getuid?.() !== 0) return "the sandbox needs root: start Backhaul with sudo to try it";
  if (!existsSync("/dev/net/tun")) return "the sandbox needs /dev/net/tun, which this computer lacks";
  if (!existsSync(agentPath(distDir))) return `the agent is not built (no ${agentPath(distDir)})`;
  try {
    await run("ip", ["-V"]);
  } catch {
    return "the sandbox needs the `ip` command (iproute2)";
  }
  return null;
}

export interface SandboxOptions {
  /** Where agent/backhaul-agent.cjs is. */
  distDir: string;
  /** The agent's journal lives here. */
  dataDir: string;
  log(line: string): void;
  /** Default bh-sandbox-<pid>. */
  name?: string;
}

export class Sandbox {
  readonly name: string;
  private etcWritten = false;
  private namespaceAdded = false;
  private agent: ChildProcess | undefined;
  private agentExited: Promise<void> = Promise.resolve();

  constructor(private readonly options: SandboxOptions) {
    this.name = options.name ?? `bh-sandbox-${process.pid}`;
  }

  /** SessionOptions.openAgent: builds the namespace on first use, then starts an agent in it. */
  readonly openAgent = async (step: (step: ConnectStep) => void): Promise<AgentTransport> => {
    if (!this.namespaceAdded) await this.create();
    await this.stopAgent(); // a reconnect: the previous agent restores the namespace first
    step("agent");
    const node = process.execPath;
    const env = process.versions.electron ? { ...process.env, ELECTRON_RUN_AS_NODE: "1" } : process.env;
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.name,
        node,
        agentPath(this.options.distDir),
        "--journal",
        join(this.options.dataDir, "sandbox-agent.journal"),
        "--keepalive",
        "5",
      ],
      { stdio: ["pipe", "pipe", "pipe"], env },
    );
    child.stdin.on("error", () => undefined); // EPIPE after the agent exits; its exit is reported
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.agent = child;
    this.agentExited = exited;
    await Promise.race([
      once(child, "spawn"),
      once(child, "error").then(([error]) => {
        throw new Error(`could not start the sandbox's agent: ${(error as Error).message}`);
      }),
    ]);
    return {
      stream: Duplex.from({ readable: child.stdout, writable: child.stdin }),
      stderr: child.stderr,
      close: () => child.stdin.end(),
      exited,
    };
  };

  /** Stops the agent (it restores what it changed), then deletes the namespace and its /etc/netns folder. */
  async destroy(): Promise<void> {
    await this.stopAgent();
    if (this.namespaceAdded) {
      try {
        await run("ip", ["netns", "del", this.name]);
      } catch (error) {
        this.options.log(`sandbox: could not delete namespace ${this.name}: ${(error as Error).message}`);
      }
      this.namespaceAdded = false;
    }
    if (this.etcWritten) {
      // Only what create() wrote: the file, then the folder if nothing else is in it.
      const etc = join(NETNS_ETC, this.name);
      await rm(join(etc, "resolv.conf"), { force: true });
      await rmdir(etc).catch((error: unknown) =>
        this.options.log(`sandbox: left ${etc} in place: ${(error as Error).message}`),
      );
      this.etcWritten = false;
    }
  }

  private async create(): Promise<void> {
    const etc = join(NETNS_ETC, this.name);
    await mkdir(NETNS_ETC, { recursive: true });
    await mkdir(etc).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error; // an earlier run of this pid's
    });
    this.etcWritten = true;
    await writeFile(
      join(etc, "resolv.conf"),
      `# Backhaul sandbox ${this.name}: the agent points this at the tunnel's DNS\nnameserver 127.0.0.1\n`,
    );
    // The name carries this process's id: one that exists was left by an earlier run that died.
    if (existsSync(join("/run/netns", this.name))) {
      await run("ip", ["netns", "del", this.name]).catch(() => undefined);
    }
    await run("ip", ["netns", "add", this.name]);
    this.namespaceAdded = true;
    await run("ip", ["-n", this.name, "link", "set", "dev", "lo", "up"]);
    this.options.log(
      `sandbox: namespace ${this.name} plays the remote; try \`sudo ip netns exec ${this.name} curl http://<a host on your network>\``,
    );
  }

  private async stopAgent(): Promise<void> {
    const agent = this.agent;
    if (!agent) return;
    if (agent.exitCode === null && agent.signalCode === null) {
      agent.stdin?.end(); // the link ends: the agent restores the namespace and exits
      const timer = setTimeout(() => agent.kill("SIGKILL"), AGENT_EXIT_TIMEOUT_MS);
      await this.agentExited;
      clearTimeout(timer);
    }
    this.agent = undefined;
  }
}

async function run(file: string, args: string[]): Promise<string> {
  return (await runCommand(file, args, { timeoutMs: COMMAND_TIMEOUT_MS })).stdout;
}
