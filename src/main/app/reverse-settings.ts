/**
 * The window's "This computer reaches the remote's networks" settings as a session's exit
 * options, built as the CLI's connect builds them from --remote-route, --remote-dns-domain and
 * --socks: this computer's TUN takes leased link subnets of its own (link-subnets.ts) unless the
 * app was given subnets, and its routes and subnets are never advertised back to the remote. The
 * proxy serves the app's user without credentials where the OS says who connects (Linux); the
 * per-session credentials others need (every client on macOS and Windows) go to the window's log
 * and `backhaul ui`'s terminal, as `connect` prints them: both are the user's alone.
 */
import type { Settings } from "../../shared/api.js";
import { parseSocksAddress } from "../../shared/socks-address.js";
import { newCredentials } from "../../helper/engines/proxy/credentials.js";
import { checkRemoteRoutes } from "../../helper/engines/routes/remote-routes.js";
import type { ExitSessionOptions } from "../../helper/engines/exit-session.js";
import { localLinkSubnets, type LinkSubnets, type SubnetLease } from "../broker/link-subnets.js";

export type ReverseExitOptions = Pick<
  ExitSessionOptions,
  "subnetV4" | "subnetV6" | "reverse" | "socks" | "remoteRoutes" | "remoteDnsDomains"
>;

export interface ReverseSession {
  exit: ReverseExitOptions;
  /** Never advertised to the remote: they lead into it already. */
  excludes: string[];
  /** The leased link subnets, released when the session ends; absent when none was leased. */
  lease?: SubnetLease;
  /** What the user is told once connected (the proxy's address); null without one. */
  notice: string | null;
}

export interface ReverseSessionOptions {
  /** The session's name, written in the lease. */
  label: string;
  /** The link subnets a session without this computer's TUN uses. */
  subnets: LinkSubnets;
  /** The app was started with explicit link subnets: used as they are, nothing leased. */
  subnetsChosen: boolean;
  /** Leases this computer's subnets; localLinkSubnets by default (tests replace it). */
  lease?: (label: string) => Promise<SubnetLease>;
}

export async function reverseSession(
  settings: Pick<Settings, "remoteRoutes" | "remoteDnsDomains" | "socks">,
  options: ReverseSessionOptions,
): Promise<ReverseSession> {
  const { remoteRoutes, remoteDnsDomains } = settings;
  const address = settings.socks === null ? null : parseSocksAddress(settings.socks);
  if (settings.socks !== null && address === null)
    throw new Error(`settings: the SOCKS port "${settings.socks}" is not [ADDR:]PORT`);
  const socks = address === null ? undefined : { ...address, ...newCredentials() };
  const tunWanted = remoteRoutes.length > 0 || remoteDnsDomains.length > 0;
  const lease =
    tunWanted && !options.subnetsChosen
      ? await (options.lease ?? localLinkSubnets)(options.label)
      : undefined;
  const subnets = lease?.subnets ?? options.subnets;
  const linkSubnets = [subnets.v4, ...(subnets.v6 === null ? [] : [subnets.v6])];
  let routes: string[];
  try {
    // The gateway check is the helper's, which reads this computer's routes as it makes them.
    routes = checkRemoteRoutes(remoteRoutes, { defaultGateways: [], linkSubnets });
  } catch (error) {
    await lease?.release();
    throw error;
  }
  const exit: ReverseExitOptions = {
    subnetV4: subnets.v4,
    subnetV6: subnets.v6,
    ...(socks === undefined ? {} : { socks }),
    ...(tunWanted ? { remoteRoutes: routes, remoteDnsDomains } : {}),
    ...(socks === undefined && !tunWanted
      ? {}
      : {
          // As the CLI: with the proxy, everything the remote reaches but the remote itself;
          // routes alone, exactly what this computer routes to it.
          reverse: {
            routes: socks === undefined ? routes : [],
            allowLocal: false,
            dns: socks !== undefined || remoteDnsDomains.length > 0,
          },
        }),
  };
  const shown =
    socks?.host === undefined ? "127.0.0.1" : socks.host.includes(":") ? `[${socks.host}]` : socks.host;
  return {
    exit,
    excludes: tunWanted ? [...routes, ...linkSubnets] : [],
    ...(lease === undefined ? {} : { lease }),
    notice:
      socks === undefined
        ? null
        : `socks: SOCKS5 and HTTP proxy on ${shown}:${socks.port}, leaving from the remote; ` +
          `your user: socks5h://${shown}:${socks.port}; other users and macOS or Windows need ` +
          `socks5h://${socks.username}:${socks.password}@${shown}:${socks.port}`,
  };
}
