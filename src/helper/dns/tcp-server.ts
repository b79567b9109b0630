/**
 * DNS over TCP (RFC 7766) on a loopback port, answered by the engine: the NAT engine forwards the
 * remote's TCP port-53 flows here. Each message has a 2-byte length prefix; a connection carries
 * any number of queries, pipelined, answered as each is ready (so possibly out of order, as RFC
 * 7766 §6.2.1.1 allows). Bounded: connections, queries in flight per connection (reading pauses
 * beyond), query size, idle time, and output the peer does not read (reading pauses until drain).
 */
import { createServer, type Server, type Socket } from "node:net";
import type { DnsTransport } from "../../shared/dns-row.js";

export interface DnsQueryHandler {
  handleQuery(query: Buffer, transport: DnsTransport): Promise<Buffer | null>;
}

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
  idleTimeoutMs: 10_000,
  maxQueryBytes: 4_096,
  maxConnections: 256,
  maxPipelined: 32,
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
  let pending: Buffer = Buffer.alloc(0);
  let inFlight = 0;
  let writeBlocked = false;
  let peerEnded = false;
  let closed = false;

  socket.setNoDelay(true);
  socket.setTimeout(settings.idleTimeoutMs);
  socket.on("timeout", () => {
    if (inFlight === 0) socket.destroy();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => (closed = true));
  socket.on("drain", () => {
    writeBlocked = false;
    updateFlow();
  });
  socket.on("end", () => {
    peerEnded = true;
    finishIfDone();
  });

  function updateFlow(): void {
    if (closed) return;
    if (writeBlocked || inFlight >= settings.maxPipelined) socket.pause();
    else socket.resume();
  }

  function finishIfDone(): void {
    if (peerEnded && inFlight === 0 && !closed) socket.end();
  }

  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    processPending();
  });

  /** Dispatches every complete query, up to the pipelining bound; the rest waits in `pending`. */
  function processPending(): void {
    while (pending.length >= 2 && inFlight < settings.maxPipelined && !closed) {
      const length = pending.readUInt16BE(0);
      if (length === 0 || length > settings.maxQueryBytes) {
        // Nothing sensible can follow an impossible length on a stream: close it.
        socket.destroy();
        return;
      }
      if (pending.length < 2 + length) break;
      // A copy: the query outlives this chunk, and the engine may keep it.
      const query = Buffer.from(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
      dispatch(query);
    }
    // Keep only the bytes still needed, not a view pinning a large chunk.
    if (pending.length > 0) pending = Buffer.from(pending);
  }

  function dispatch(query: Buffer): void {
    inFlight++;
    updateFlow();
    void engine.handleQuery(query, "tcp").then(
      (answer) => settle(answer),
      () => settle(null),
    );
  }

  function settle(answer: Buffer | null): void {
    inFlight--;
    if (closed) return;
    if (answer === null || answer.length > 0xffff) {
      // The engine drops what it cannot answer; on a stream the only way to say so is to close.
      socket.destroy();
      return;
    }
    const framed = Buffer.allocUnsafe(2 + answer.length);
    framed.writeUInt16BE(answer.length, 0);
    answer.copy(framed, 2);
    if (!socket.write(framed)) writeBlocked = true;
    processPending();
    updateFlow();
    finishIfDone();
  }
}
