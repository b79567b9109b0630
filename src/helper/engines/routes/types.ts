// Plain data shared by the per-OS route readers and the advertisement logic.
import type { NetworkInterfaceInfo } from "node:os";

/**
 * Where an entry came from. "local" entries are this computer's own addresses (host prefixes):
 * never advertised, they let host routes to this computer be recognised and dropped.
 */
export type RouteSource = "route-table" | "connected" | "local" | "user";

export interface RouteEntry {
  /** Canonical CIDR, host bits clear: "198.18.0.0/15", "2001:db8::/32". */
  prefix: string;
  family: 4 | 6;
  /** Interface as the OS names it ("en0", "wg0", "Wi-Fi"), or null when the output does not say. */
  interface: string | null;
  /** Next hop, or null for on-link routes. */
  gateway: string | null;
  source: RouteSource;
}

/** Runs a program (no shell) and resolves with its stdout; rejects with a RouteTableError. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string>;

/** The shape of os.networkInterfaces(), so tests can pass recorded values. */
export type InterfaceMap = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** One per OS: reads the routing table with `run`; `interfaces` helps name interfaces. */
export type ReadRouteTable = (run: CommandRunner, interfaces: InterfaceMap) => Promise<RouteEntry[]>;
