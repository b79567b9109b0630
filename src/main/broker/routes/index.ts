// Which prefixes this computer can reach, read from the OS, and which of them to advertise to
// the remote (DESIGN.md "Platforms"). One reader per OS behind ReadRouteTable, chosen at run
// time; connected subnets and own addresses come from os.networkInterfaces() on every OS.
//
// Not covered: Linux policy-routing tables other than main (wg-quick full tunnels, Tailscale's
// table 52), macOS scoped-only routes are taken as ordinary ones, and route metrics are ignored
// (a prefix is reachable or not; which interface wins is the OS's business).
import { networkInterfaces } from "node:os";
import { readDarwinRoutes } from "./darwin.js";
import { RouteTableError } from "../../../helper/engines/routes/errors.js";
import { execFileRunner } from "./exec.js";
import { interfaceRoutes } from "./interfaces.js";
import { readLinuxRoutes } from "./linux.js";
import type {
  CommandRunner,
  InterfaceMap,
  ReadRouteTable,
  RouteEntry,
} from "../../../helper/engines/routes/types.js";
import { readWindowsRoutes } from "./windows.js";

export type {
  CommandRunner,
  InterfaceMap,
  ReadRouteTable,
  RouteEntry,
  RouteSource,
} from "../../../helper/engines/routes/types.js";
export { CidrError, RouteTableError } from "../../../helper/engines/routes/errors.js";
export type { RouteTableErrorCode } from "../../../helper/engines/routes/errors.js";
export { advertisableRoutes, isSplitDefault } from "./advertise.js";
export type { AdvertiseOptions } from "./advertise.js";
export { interfaceRoutes } from "./interfaces.js";

const READERS: Partial<Record<NodeJS.Platform, ReadRouteTable>> = {
  linux: readLinuxRoutes,
  darwin: readDarwinRoutes,
  win32: readWindowsRoutes,
};

export interface ListRoutesOptions {
  /** Defaults to process.platform. */
  platform?: NodeJS.Platform;
  /** Defaults to execFile with a timeout; tests pass recorded output. */
  run?: CommandRunner;
  /** Defaults to os.networkInterfaces(). */
  interfaces?: InterfaceMap;
}

/**
 * This computer's routes: the OS routing table ("route-table"), the subnets of its interfaces
 * ("connected") and its own addresses ("local"). Unfiltered; see advertisableRoutes.
 * Rejects with a RouteTableError when the table cannot be read or the OS is not supported.
 */
export async function listRoutes(options: ListRoutesOptions = {}): Promise<RouteEntry[]> {
  const platform = options.platform ?? process.platform;
  const read = READERS[platform];
  if (read === undefined) {
    throw new RouteTableError(
      "unsupported-platform",
      `reading routes on ${platform} is not supported (only Linux, macOS and Windows)`,
    );
  }
  const interfaces = options.interfaces ?? networkInterfaces();
  const table = await read(options.run ?? execFileRunner, interfaces);
  return [...table, ...interfaceRoutes(interfaces)];
}
