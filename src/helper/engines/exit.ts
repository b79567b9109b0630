import { linkAddresses } from "../../shared/link-addresses.js";
import { DNS_STREAM_IDLE_MS, DNS_STREAM_LIMITS, type DnsEngine, DnsStreamSession } from "./dns/index.js";
import { dnsNameResolver } from "./dns/name-lookup.js";
import type { Link } from "./link/link.js";
import { NatEngine, type NatEngineOptions } from "./nat/engine.js";
import type { StreamForwarder } from "./nat/stream-forwarder.js";
import { parseAddress } from "./packet/index.js";
import type { PacketPort } from "./port/packet-port.js";

/** The exit role's data path: every batch from the port goes to the NAT engine. */
export function attachNatEngine(port: PacketPort, engine: NatEngine): () => void {
  return port.onPackets((packets) => engine.handlePackets(packets));
}

/** A link's subnets, as a CONFIG (or the exit settings it is made from) gives them. */
export interface LinkSubnets {
  subnetV4: string | null;
  subnetV6: string | null;
}

/** The link's DNS stub addresses, one per subnet the link has. */
export function stubAddresses(subnets: LinkSubnets): string[] {
  return [subnets.subnetV4, subnets.subnetV6].flatMap((s) => (s ? [linkAddresses(s).stub] : []));
}

/** What either exit (this computer's ExitSession, the agent's ReverseExit) runs its engines with. */
export interface ExitEnginesOptions {
  link: Link;
  /** Where the NAT engine's packets come from and go to. */
  port: PacketPort;
  subnets: LinkSubnets;
  /** Resolves the names of streams and, with `answerAtStub`, the queries sent to the stub. */
  dns: DnsEngine;
  /** The DNS engine answers at the link's stub addresses (UDP, and TCP streams). */
  answerAtStub: boolean;
  /** What streams name as their entrance when the link has no subnet to give its address. */
  entranceName: string;
  /** The rest of the NAT engine's options (its output is `port`, its stub as above). */
  nat: Omit<NatEngineOptions, "output" | "dnsStub">;
}

/**
 * The engines an exit wires to its link, in either direction: the NAT engine on `port`, with the
 * DNS engine behind the stub addresses, and the link's streams through the same NAT.
 */
export function startExitEngines(options: ExitEnginesOptions): { nat: NatEngine; streams: StreamForwarder } {
  const { link, port, subnets, dns } = options;
  const nat = new NatEngine({
    ...options.nat,
    output: port,
    dnsStub: options.answerAtStub
      ? {
          addresses: stubAddresses(subnets).map(parseAddress),
          resolver: {
            answerUdp: (query) => dns.handleQuery(query, "udp"),
            tcp: {
              serve: (stream) => new DnsStreamSession(stream, dns, DNS_STREAM_LIMITS),
              idleTimeoutMs: DNS_STREAM_IDLE_MS,
            },
          },
        }
      : undefined,
  });
  attachNatEngine(port, nat);
  const subnet = subnets.subnetV4 ?? subnets.subnetV6;
  const streams = nat.attachStreams(link, {
    resolve: dnsNameResolver(dns),
    entranceAddress: subnet === null ? options.entranceName : linkAddresses(subnet).tun.split("/")[0]!,
  });
  return { nat, streams };
}
