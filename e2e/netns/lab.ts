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
import { mkdir, rm, writeFile } from "node:fs/promises";
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

function addressArgs(cidr: string, name: string): string[] {
  // nodad: on a fresh veth pair there is nobody to collide with, and DAD delays the address.
  return cidr.includes(":")
    ? ["-6", "addr", "add", cidr, "dev", name, "nodad"]
    : ["addr", "add", cidr, "dev", name];
}

export class NetnsLab {
  private readonly namespaces: NetworkNamespace[] = [];
  private readonly processes: ManagedProcess[] = [];

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
      for (const cidr of addresses) await ns.ip(addressArgs(cidr, name));
      await ns.ip(["link", "set", "dev", name, "up"]);
    }
    return { a: nameA, b: nameB };
  }

  /** Stops every process, deletes every namespace and /etc/netns dir this lab created. */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
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
    if (errors.length > 0) throw new AggregateError(errors, "namespace cleanup was incomplete");
  }
}
