/**
 * The agent's proxy entrance, for a remote where it has no root or no /dev/net/tun: SOCKS5 and an
 * HTTP proxy on loopback (engines/proxy), TCP as link streams, UDP as packets from the entrance's
 * link address, and proxy.env for the user. It changes nothing on the system but that file
 * (journaled): no TUN, routes or resolver.
 */
import { linkAddresses } from "../../shared/link-addresses.js";
import type { LinkConfig } from "../../shared/link-protocol.js";
import type { StreamOpener } from "../../shared/link-streams.js";
import { newCredentials } from "../engines/proxy/credentials.js";
import { ProxyServer } from "../engines/proxy/proxy-server.js";
import { UdpRelay } from "../engines/proxy/udp-relay.js";
import type { PacketPort } from "../engines/port/packet-port.js";
import type { Journal } from "../system/journal.js";
import { renderProxyEnv, writeProxyEnvFile } from "./proxy-env.js";

export interface ProxyEntranceOptions {
  journal: Journal;
  opener: StreamOpener;
  /** The link's PACKETS path. */
  packets: PacketPort;
  config: LinkConfig;
  envPath: string;
  log: (line: string) => void;
}

export interface ProxyEntrance {
  readonly port: number;
  readonly server: ProxyServer;
  readonly udp: UdpRelay;
  close(): Promise<void>;
}

const hostOf = (cidr: string): string => cidr.slice(0, cidr.indexOf("/"));

export async function startProxyEntrance(options: ProxyEntranceOptions): Promise<ProxyEntrance> {
  const v4 = options.config.subnetV4 === null ? null : linkAddresses(options.config.subnetV4);
  const v6 = options.config.subnetV6 === null ? null : linkAddresses(options.config.subnetV6);
  const udp = new UdpRelay({
    port: options.packets,
    sourceV4: v4 && hostOf(v4.tun),
    sourceV6: v6 && hostOf(v6.tun),
    stub: v4?.stub ?? v6?.stub ?? null,
  });
  // With no TUN, every packet from the exit is an answer to the proxy's UDP or its DNS queries.
  const stopPackets = options.packets.onPackets((packets) => {
    for (const packet of packets) udp.handlePacket(packet);
  });
  const credentials = newCredentials();
  const server = new ProxyServer({ credentials, opener: options.opener, udp, log: options.log });
  const port = await server.listen();
  await writeProxyEnvFile(options.journal, options.envPath, renderProxyEnv(credentials, port));
  options.log(`proxy entrance on 127.0.0.1:${port} (SOCKS5 and HTTP); settings in ${options.envPath}`);
  return {
    port,
    server,
    udp,
    close: async () => {
      stopPackets();
      udp.close();
      await server.close();
    },
  };
}
