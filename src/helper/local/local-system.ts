/**
 * What this computer's TUN entrance asks of the OS, one implementation per OS (as Tailscale's
 * manager_linux/darwin/windows): its default gateways, the TUN device with the link addresses,
 * routes into it, and resolver rules for the remote's domains, every change journaled first.
 * Linux runs for real; macOS (utun, ifconfig, route, /etc/resolver) and Windows (Wintun,
 * New-NetIPAddress, New-NetRoute, NRPT) build their commands in src/helper/system/platform, tested
 * on recorded output; their TUN device itself is the TunDevice seam's (tun/open-tun.ts).
 */
import type { LinkAddresses } from "../../shared/link-addresses.js";
import { isAlreadyExists, linkExists, tunRunner, type CommandRunner } from "../system/command.js";
import { readDefaultGateways } from "../system/default-gateways.js";
import { detectDnsConfigurator } from "../system/dns/detect.js";
import { addNrptRules } from "../system/dns/nrpt.js";
import { RESOLV_CONF_PATH, type BeforeWrite } from "../system/dns/resolv-conf.js";
import { writeResolverFiles } from "../system/dns/resolver-files.js";
import { NothingChangedError } from "../system/errors.js";
import type { Journal } from "../system/journal.js";
import * as darwin from "../system/platform/darwin.js";
import * as windows from "../system/platform/windows.js";
import { openJournaledTun } from "../system/tun-setup.js";
import { LinuxInterface, openTun, type TunDevice, type TunOpenOptions } from "../system/tun/index.js";

export interface DomainRules {
  /** "resolved", "resolv-conf", "resolver-files" or "nrpt". */
  kind: string;
  /** What was found, and so how: one sentence for the user. */
  reason: string;
  /** Stops what runs in this process for them (a split forwarder); the journal undoes the rest. */
  close(): Promise<void>;
}

export interface LocalSystem {
  defaultGateways(): Promise<string[]>;
  /** Whether another interface already has this slot's name (Linux names its TUN by the slot). */
  nameInUse(name: string): Promise<boolean>;
  /** Opens the TUN of journal slot `slot` (journaled) with this computer's link addresses, up. */
  openTun(
    journal: Journal,
    slot: string,
    openTuns: Map<string, TunDevice>,
    mtu: number,
    addresses: readonly LinkAddresses[],
  ): Promise<TunDevice>;
  addRoute(journal: Journal, dev: string, prefix: string): Promise<void>;
  /** Names under `domains` resolve with `servers` (the remote exit's stub, through the TUN). */
  resolveDomains(
    journal: Journal,
    dev: string,
    domains: readonly string[],
    servers: readonly string[],
    listen: string,
  ): Promise<DomainRules>;
}

const routeExists = (prefix: string, cause: unknown): NothingChangedError =>
  new NothingChangedError(
    `this computer already has a route for ${prefix}: remove it, or leave it out of --remote-route`,
    {
      cause,
    },
  );

export interface LinuxSystemOptions {
  run: CommandRunner;
  resolvConfPath?: string;
  beforeResolvConfWrite?: BeforeWrite;
  log(line: string): void;
}

export function linuxSystem(options: LinuxSystemOptions): LocalSystem {
  const { run } = options;
  return {
    defaultGateways: () => readDefaultGateways(run),
    nameInUse: (name) => linkExists(run, name),
    openTun: (journal, slot, openTuns, mtu, addresses) =>
      openJournaledTun(journal, { name: slot, mtu, addresses: addresses.map((a) => a.tun), openTuns, run }),
    addRoute: (journal, dev, prefix) =>
      journal.recordThenApply({ kind: "route", prefix, dev }, async () => {
        try {
          await new LinuxInterface(dev, tunRunner(run)).addRoute(prefix);
        } catch (error) {
          if (isAlreadyExists(error)) throw routeExists(prefix, error);
          throw error;
        }
      }),
    resolveDomains: async (journal, dev, domains, servers, listen) => {
      const detection = await detectDnsConfigurator({
        link: dev,
        run,
        resolvConfPath: options.resolvConfPath ?? RESOLV_CONF_PATH,
        beforeWrite: options.beforeResolvConfWrite,
        // Without systemd-resolved: the split forwarder on the TUN's own address.
        splitListen: { address: listen },
        log: options.log,
      });
      for (const warning of detection.warnings) options.log(`dns: ${warning}`);
      const configurator = detection.configurator;
      await configurator.apply({ mode: "split", servers: [...servers], domains: [...domains] }, journal);
      return { kind: configurator.kind, reason: detection.reason, close: () => configurator.close() };
    },
  };
}

export interface PlatformSystemOptions {
  run: CommandRunner;
  /** Default tun/open-tun.ts; tests pass a fake device. */
  open?: (options: TunOpenOptions) => Promise<TunDevice>;
  /** macOS: default /etc/resolver. */
  resolverDir?: string;
}

/** macOS and Windows: the TUN journaled by its slot, then the OS's own commands. */
export function platformSystem(os: "darwin" | "win32", options: PlatformSystemOptions): LocalSystem {
  const { run } = options;
  const exec = (command: darwin.Command): Promise<string> => run(command.file, command.args);
  return {
    defaultGateways: async () =>
      os === "darwin"
        ? darwin.parseNetstatDefaultGateways(await run("netstat", ["-rn"]))
        : windows.parseRoutePrintDefaultGateways(await run("route", ["print"])),
    // The OS names the device (utunN, the Wintun adapter): a slot's name is only its journal's.
    nameInUse: () => Promise.resolve(false),
    openTun: async (journal, slot, openTuns, mtu, addresses) => {
      const tun = await journal.recordThenApply({ kind: "platform-tun", os, slot }, async () => {
        const device = await (options.open ?? openTun)({ mtu });
        openTuns.set(slot, device);
        return device;
      });
      // The addresses go with the device: nothing more to journal.
      for (const address of addresses)
        await exec(
          os === "darwin"
            ? darwin.utunAddressCommand(tun.name, address.tun, address.stub, mtu)
            : windows.addressCommand(tun.name, address.tun),
        );
      return tun;
    },
    addRoute: (journal, dev, prefix) =>
      journal.recordThenApply({ kind: "platform-route", os, prefix, dev }, async () => {
        await exec(
          os === "darwin"
            ? darwin.routeCommand("add", prefix, dev)
            : windows.routeCommand("add", prefix, dev),
        );
      }),
    resolveDomains: async (journal, _dev, domains, servers) => {
      if (os === "darwin") {
        await writeResolverFiles(journal, domains, servers, options.resolverDir);
        return {
          kind: "resolver-files",
          reason: "macOS reads /etc/resolver/DOMAIN per domain",
          close: () => Promise.resolve(),
        };
      }
      await addNrptRules(journal, domains, servers, run);
      return { kind: "nrpt", reason: "an NRPT rule per domain", close: () => Promise.resolve() };
    },
  };
}
