// One network namespace created by a NetnsLab. Commands run in it with `ip netns exec`, which
// execs the command directly, so the PID we hold is the command's own PID.
import type { SpawnOptions } from "node:child_process";
import {
  runChecked,
  runCommand,
  spawnManaged,
  type CommandResult,
  type ManagedProcess,
  type RunOptions,
} from "./process.js";

export class NetworkNamespace {
  constructor(
    /** Unique on this machine, e.g. bh-remote-1234-9f3a. */
    readonly name: string,
    /** What it stands for in the topology: "remote", "local", "server", "tun"... */
    readonly role: string,
    private readonly track: (process: ManagedProcess) => void,
  ) {}

  private wrap(file: string, args: readonly string[]): string[] {
    return ["netns", "exec", this.name, file, ...args];
  }

  /** Runs a command inside the namespace; resolves whatever its exit code. */
  run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    return runCommand("ip", this.wrap(file, args), options);
  }

  /** Runs a command inside the namespace; throws with its output unless it exits 0. */
  runChecked(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    return runChecked("ip", this.wrap(file, args), options);
  }

  /** `ip ARGS` inside the namespace (ip -n NAME ...), e.g. ["addr", "add", ...]. */
  ip(args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    return runChecked("ip", ["-n", this.name, ...args], options);
  }

  /** Adds addresses with prefix length ("198.18.1.1/30", "2001:db8:10::1/64") to interface `name`. */
  async addAddresses(name: string, cidrs: readonly string[]): Promise<void> {
    for (const cidr of cidrs) {
      // nodad: on a fresh veth pair there is nobody to collide with, and DAD delays the address.
      await this.ip(
        cidr.includes(":")
          ? ["-6", "addr", "add", cidr, "dev", name, "nodad"]
          : ["addr", "add", cidr, "dev", name],
      );
    }
  }

  /**
   * An interface `name` with `cidrs`, up: one end of a veth pair whose other end (NAME-peer) stays
   * in this namespace, up when `carrier`, else down (as docker0 with no containers).
   */
  async addInnerInterface(
    name: string,
    cidrs: readonly string[],
    options: { carrier: boolean },
  ): Promise<void> {
    await this.ip(["link", "add", name, "type", "veth", "peer", "name", `${name}-peer`]);
    await this.addAddresses(name, cidrs);
    if (options.carrier) await this.ip(["link", "set", `${name}-peer`, "up"]);
    await this.ip(["link", "set", name, "up"]);
  }

  /** Starts a long-running process inside the namespace; the lab stops it on cleanup. */
  spawn(file: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
    const process = spawnManaged("ip", this.wrap(file, args), options);
    this.track(process);
    return process;
  }
}
