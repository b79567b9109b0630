/**
 * `--socks [ADDR:]PORT`: the proxy entrance (engines/proxy: SOCKS5 and the HTTP proxy on one
 * port) on this computer, whose streams open at the agent's exit (link protocol revision 2), so
 * connections leave from the remote and names resolve with the remote's resolver. It runs where
 * the link's frames end, in the local helper (or main's in-process exit): no privilege needed.
 *
 * Who may use it: the port is on this computer's loopback (unless an address is given), which
 * other users of this computer reach too. A client the OS says is the session's user (Linux: the
 * owner of the peer socket, loopback-peer.ts) needs nothing; anyone else must give the session's
 * credentials, which only the user is shown. Where the OS says nothing (macOS, Windows), everyone
 * gives them. UDP ASSOCIATE is not offered: its datagrams would share REVERSE_PACKETS with the
 * TUN of `--remote-route`.
 */
import type { Link } from "./link/link.js";
import type { ProxyCredentials } from "./proxy/credentials.js";
import { loopbackPeerUid } from "./proxy/loopback-peer.js";
import { ProxyServer } from "./proxy/proxy-server.js";
import { LinkStreamOpener } from "./streams/stream-opener.js";

export interface SocksSettings {
  /** The address to listen on; loopback (127.0.0.1 and ::1) when absent. */
  host?: string;
  port: number;
  credentials: ProxyCredentials;
}

export interface SocksEntrance {
  readonly server: ProxyServer;
  readonly port: number;
  close(): Promise<void>;
}

export async function startSocksEntrance(
  link: Link,
  settings: SocksSettings,
  options: { ownerUid: number | undefined; log: (line: string) => void },
): Promise<SocksEntrance> {
  const opener = new LinkStreamOpener(link);
  const { ownerUid } = options;
  const server = new ProxyServer({
    credentials: settings.credentials,
    opener,
    udp: null,
    port: settings.port,
    ...(settings.host === undefined ? {} : { host: settings.host }),
    ...(ownerUid === undefined
      ? {}
      : { isOwner: async (socket) => (await loopbackPeerUid(socket)) === ownerUid }),
    log: options.log,
  });
  const port = await server.listen();
  link.once("close", () => void server.close());
  return { server, port, close: () => server.close() };
}
