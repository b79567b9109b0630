/**
 * DNS over TCP (RFC 7766) on a loopback port, answered by the engine (stream-session.ts: framing,
 * pipelining and its bounds). Bounded here: connections and idle time. The NAT engine answers
 * the remote's port-53 flows in process (nat/dns-stream-peer.ts); this server is for tests and tools
 * that speak to the engine over a real socket.
 */
import { createServer, type Server, type Socket } from "node:net";
import {
  DNS_STREAM_IDLE_MS,
  DNS_STREAM_LIMITS,
  DnsStreamSession,
  type DnsQueryHandler,
} from "./stream-session.js";

export type { DnsQueryHandler };

export interface DnsTcpServerOptions {
  /** Default 127.0.0.1: the NAT engine connects from this computer. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** A connection with nothing in flight and no traffic for this long is closed. */
  idleTimeoutMs?: number;
  /** A query larger than this closes its connection (real queries are a few hundred bytes). */
  maxQueryBytes?: number;
  maxConnections?: number;
  maxPipelined?: number;
}

export interface DnsTcpServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  idleTimeoutMs: DNS_STREAM_IDLE_MS,
  maxConnections: 256,
  ...DNS_STREAM_LIMITS,
};

export async function startDnsTcpServer(
  engine: DnsQueryHandler,
  options: DnsTcpServerOptions = {},
): Promise<DnsTcpServer> {
  const settings = { ...DEFAULTS, ...options };
  const connections = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    serveConnection(socket, engine, settings);
  });
  server.maxConnections = settings.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") {
    server.close();
    throw new Error(`the DNS TCP server did not get a port on ${settings.host}`);
  }
  return {
    port: address.port,
    host: settings.host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of connections) socket.destroy();
      }),
  };
}

function serveConnection(socket: Socket, engine: DnsQueryHandler, settings: typeof DEFAULTS): void {
  const session = new DnsStreamSession(
    {
      write: (framed) => socket.write(framed),
      end: () => socket.end(),
      destroy: () => socket.destroy(),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    },
    engine,
    settings,
  );
  socket.setNoDelay(true);
  socket.setTimeout(settings.idleTimeoutMs);
  socket.on("timeout", () => {
    if (!session.busy) socket.destroy();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => session.close());
  socket.on("drain", () => session.drained());
  socket.on("end", () => session.end());
  socket.on("data", (chunk: Buffer) => session.data(chunk));
}
