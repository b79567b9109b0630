// A set of network namespaces built for one test run, and everything needed to take them down.
//
//   const lab = new NetnsLab();
//   t.after(() => lab.cleanup());           // always, even when the test fails
//   const remote = await lab.createNamespace("remote");
//   const local = await lab.createNamespace("local");
//   await lab.addVethPair(remote, local, { addressesA: ["198.18.1.1/30"], addressesB: ["198.18.1.2/30"] });
//
// Safety: only namespaces and /etc/netns dirs this lab created are removed, processes are stopped
// by PID, and nothing touches this machine's own interfaces, routes or resolver.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkNamespace } from "./namespace.js";
import { runChecked, runCommand, type ManagedProcess } from "./process.js";

const NETNS_ETC = "/etc/netns";

export interface NamespaceOptions {
  /**
   * The namespace's /etc/resolv.conf. It must exist before anything runs in the namespace:
   * `ip netns exec` bind-mounts /etc/netns/NAME/resolv.conf only if present, and otherwise a
   * process there that rewrites /etc/resolv.conf would rewrite this machine's real one. The
   * default points at the namespace's own loopback, where nothing answers.
   */
  resolvConf?: string;
}

export interface VethOptions {
  /** Interface names (at most 15 characters); default "veth-<other role>". */
  nameA?: string;
  nameB?: string;
  /** Addresses with prefix length, e.g. "198.18.1.1/30", "2001:db8:10::1/64". */
  addressesA?: readonly string[];
  addressesB?: readonly string[];
}

function uniqueName(role: string): string {
  if (!/^[a-z][a-z0-9]{0,15}$/.test(role))
    throw new TypeError(`namespace role must be short lowercase, got ${role}`);
  return `bh-${role}-${process.pid}-${randomBytes(2).toString("hex")}`;
}

/** A step of cleanup(): "first" runs before the processes stop, "last" once the namespaces are gone. */
export type CleanupStep = { when: "first" | "last"; run: () => unknown };

export class NetnsLab {
  private readonly namespaces: NetworkNamespace[] = [];
  private readonly processes: ManagedProcess[] = [];
  private readonly steps: CleanupStep[] = [];

  /**
   * Runs `build` on a new lab; if it throws, takes down what it built, then rethrows. What it
   * returns owns the lab: its cleanup() calls lab.cleanup().
   */
  static async build<T>(build: (lab: NetnsLab) => Promise<T>): Promise<T> {
    const lab = new NetnsLab();
    try {
      return await build(lab);
    } catch (error) {
      await lab.cleanup().catch((cleanupError: unknown) => {
        throw new AggregateError([error, cleanupError], "the lab failed to build, and to clean up");
      });
      throw error;
    }
  }

  /** A new temporary directory that cleanup() removes once the namespaces are gone. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.onCleanup("last", () => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Adds a step to cleanup(); see CleanupStep. */
  onCleanup(when: CleanupStep["when"], run: () => unknown): void {
    this.steps.push({ when, run });
  }

  get createdNamespaces(): readonly NetworkNamespace[] {
    return this.namespaces;
  }

  async createNamespace(role: string, options: NamespaceOptions = {}): Promise<NetworkNamespace> {
    const name = uniqueName(role);
    // resolv.conf first: see NamespaceOptions.resolvConf.
    const etc = join(NETNS_ETC, name);
    await mkdir(etc, { recursive: true });
    const namespace = new NetworkNamespace(name, role, (process) => this.processes.push(process));
    this.namespaces.push(namespace);
    await writeFile(
      join(etc, "resolv.conf"),
      options.resolvConf ?? `# backhaul test namespace ${name}\nnameserver 127.0.0.1\n`,
    );
    await runChecked("ip", ["netns", "add", name]);
    await namespace.ip(["link", "set", "dev", "lo", "up"]);
    return namespace;
  }

  /** A veth pair between two namespaces, created directly inside them (never in this machine's). */
  async addVethPair(
    a: NetworkNamespace,
    b: NetworkNamespace,
    options: VethOptions = {},
  ): Promise<{ a: string; b: string }> {
    const nameA = options.nameA ?? `veth-${b.role}`.slice(0, 15);
    const nameB = options.nameB ?? `veth-${a.role}`.slice(0, 15);
    await a.ip(["link", "add", nameA, "type", "veth", "peer", "name", nameB, "netns", b.name]);
    for (const [ns, name, addresses] of [
      [a, nameA, options.addressesA ?? []],
      [b, nameB, options.addressesB ?? []],
    ] as const) {
      await ns.addAddresses(name, addresses);
      await ns.ip(["link", "set", "dev", name, "up"]);
    }
    return { a: nameA, b: nameB };
  }

  /**
   * Runs the "first" steps, stops every process, deletes every namespace and /etc/netns dir this lab
   * created, then runs the "last" steps (temporary directories among them).
   */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    const steps = this.steps.splice(0);
    const runSteps = async (when: CleanupStep["when"]): Promise<void> => {
      for (const step of steps.filter((candidate) => candidate.when === when)) {
        await Promise.resolve()
          .then(step.run)
          .catch((error: unknown) => errors.push(error));
      }
    };
    await runSteps("first");
    const processes = this.processes.splice(0);
    await Promise.all(
      processes.map((process) => process.stop().catch((error: unknown) => errors.push(error))),
    );
    for (const namespace of this.namespaces.splice(0).reverse()) {
      const result = await runCommand("ip", ["netns", "del", namespace.name]);
      if (result.code !== 0 && !/No such file/.test(result.stderr)) {
        errors.push(new Error(`ip netns del ${namespace.name} failed: ${result.stderr.trim()}`));
      }
      await rm(join(NETNS_ETC, namespace.name), { recursive: true, force: true }).catch((error: unknown) =>
        errors.push(error),
      );
    }
    await runSteps("last");
    if (errors.length > 0) throw new AggregateError(errors, "namespace cleanup was incomplete");
  }
}
