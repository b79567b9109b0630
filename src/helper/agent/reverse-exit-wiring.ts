/**
 * The agent's side of the reverse direction: starts the exit (engines/reverse-exit.ts) when a
 * CONFIG carries `reverse`, and follows later CONFIGs. Names resolve with the remote's own
 * resolvers as they were before this agent changed anything (dns/remote-resolvers.ts) and its
 * hosts file, never through the stub that points back at this computer.
 */
import { linkAddresses } from "../../shared/link-addresses.js";
import type { LinkConfig, ReverseExitConfig } from "../../shared/link-protocol.js";
import { DnsEngine } from "../engines/dns/engine.js";
import { hostsFileLookup } from "../engines/dns/hosts-file.js";
import type { Link } from "../engines/link/link.js";
import { createIcmpForwarder } from "../engines/nat/icmp/index.js";
import { ReverseExit } from "../engines/reverse-exit.js";
import { upstreamsOf, type RemoteResolvers } from "./dns/remote-resolvers.js";

export interface ReverseExitWiring {
  /** A CONFIG arrived: start the exit, or update its policy. */
  configure(config: LinkConfig): void;
  readonly exit: ReverseExit | undefined;
}

export function wireReverseExit(
  link: Link,
  resolvers: RemoteResolvers,
  log: (line: string) => void,
): ReverseExitWiring {
  let exit: ReverseExit | undefined;
  return {
    get exit() {
      return exit;
    },
    configure(config) {
      const reverse = config.reverse;
      if (reverse === undefined) return;
      if (exit !== undefined) return exit.update({ reverse });
      const stubs = [config.subnetV4, config.subnetV6].flatMap((s) => (s ? [linkAddresses(s).stub] : []));
      const upstreams = upstreamsOf(resolvers, stubs);
      const dns = new DnsEngine({
        resolvers: upstreams,
        lookup: hostsFileLookup(),
        searchDomains: () => Promise.resolve(resolvers.searchDomains),
      });
      exit = new ReverseExit({
        link,
        config: { ...config, reverse },
        dns,
        icmp: (context) => createIcmpForwarder(context, { log }),
        log,
      });
      log(
        `exit: ${describe(reverse)}; names through ${upstreams.map((u) => u.address).join(", ") || "the hosts file only"}`,
      );
    },
  };
}

function describe(reverse: ReverseExitConfig): string {
  const where = reverse.routes.length > 0 ? reverse.routes.join(", ") : "every destination";
  return `this computer reaches ${where}${reverse.allowLocal ? " and the remote itself" : " (not the remote itself)"}`;
}
