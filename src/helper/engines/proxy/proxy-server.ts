/**
 * The proxy entrance: one port on loopback (127.0.0.1, and ::1 when the host has it) serving
 * SOCKS5 and an HTTP proxy, told apart by the first byte (5 is SOCKS; no HTTP method starts
 * with it). TCP goes to the exit as link streams through a StreamOpener; UDP ASSOCIATE as IP
 * packets through a UdpRelay.
 *
 * Hostile clients cannot stop it: every handshake has HANDSHAKE_TIMEOUT_MS, reads are bounded
 * by each message's own lengths (HTTP heads by 16 KiB), concurrent connections are capped, and
 * each refusal is counted.
 *
 * Not implemented: SOCKS5 BIND (answered "command not supported"), GSSAPI and "no
 * authentication" (the remote is shared), UDP fragments (dropped, as RFC 1928 allows), keep-alive
 * for plain HTTP (each absolute-form request gets its own stream and `Connection: close`).
 */
import { createServer, type Server, type Socket } from "node:net";
import type { StreamOpener } from "../../../shared/link-streams.js";
import type { ProxyCredentials } from "./credentials.js";
import { HandshakeClosed, HandshakeReader, refuse } from "./handshake-reader.js";
import { MAX_HEAD_BYTES } from "./http-head.js";
import { serveHttp } from "./http-session.js";
import { newCounters, type ProxyContext, type ProxyCounters } from "./proxy-context.js";
import { serveSocks5 } from "./socks5-session.js";
import type { UdpRelay } from "./udp-relay.js";

export const HANDSHAKE_TIMEOUT_MS = 10_000;
export const MAX_CONNECTIONS = 1_024;

export interface ProxyServerOptions {
  credentials: ProxyCredentials;
  opener: StreamOpener;
  udp?: UdpRelay | null;
  maxConnections?: number;
  handshakeTimeoutMs?: number;
  /** Default 0: a free port. */
  port?: number;
  /** Listen on this address only (`--socks ADDR:PORT`); default 127.0.0.1 and ::1. */
  host?: string;
  /**
   * Whether the OS says the client is the user this proxy serves (on Linux, the owner of a
   * loopback peer's socket: loopback-peer.ts); such a client needs no credentials. Default none.
   */
  isOwner?: (socket: Socket) => Promise<boolean>;
  log?: (line: string) => void;
}

export class ProxyServer {
  readonly counters: ProxyCounters = newCounters();
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private capLogged = false;
  private boundPort = 0;

  constructor(private readonly options: ProxyServerOptions) {}

  /** The port both loopback listeners share; 0 before listen(). */
  get port(): number {
    return this.boundPort;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Listens on 127.0.0.1 (a free port unless one is given) and on ::1 at the same port if it exists. */
  async listen(): Promise<number> {
    if (this.options.host !== undefined) {
      const server = await this.listenOn(this.options.host, this.options.port ?? 0);
      this.servers.push(server);
      this.boundPort = (server.address() as { port: number }).port;
      return this.boundPort;
    }
    for (let attempt = 0; ; attempt++) {
      const v4 = await this.listenOn("127.0.0.1", this.options.port ?? 0);
      const port = (v4.address() as { port: number }).port;
      try {
        const v6 = await this.listenOn("::1", port);
        this.servers.push(v4, v6);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE" && attempt < 10 && !this.options.port) {
          // Someone holds that port on ::1 only: pick another pair.
          await new Promise<void>((resolve) => v4.close(() => resolve()));
          continue;
        }
        if (code !== "EADDRNOTAVAIL" && code !== "EAFNOSUPPORT") {
          v4.close();
          throw error;
        }
        this.servers.push(v4);
      }
      this.boundPort = port;
      return port;
    }
  }

  /** Stops listening and closes every client connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    this.servers.length = 0;
  }

  private listenOn(host: string, port: number): Promise<Server> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off("error", reject);
        server.on("error", (error) => this.log(`listener ${host}: ${error.message}`));
        resolve(server);
      });
    });
  }

  private accept(socket: Socket): void {
    socket.on("error", () => undefined);
    const cap = this.options.maxConnections ?? MAX_CONNECTIONS;
    if (this.sockets.size >= cap) {
      this.counters.overCap++;
      if (!this.capLogged) {
        this.capLogged = true;
        this.log(`${cap} proxy connections are open: further ones are refused (said once)`);
      }
      socket.resetAndDestroy();
      return;
    }
    this.counters.accepted++;
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    void this.serve(socket);
  }

  private async serve(socket: Socket): Promise<void> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.counters.handshakeTimeouts++;
      socket.destroy();
    }, this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    const { isOwner } = this.options;
    let owner: Promise<boolean> | undefined;
    const context: ProxyContext = {
      credentials: this.options.credentials,
      ownerClient: () => (owner ??= isOwner ? isOwner(socket).catch(() => false) : Promise.resolve(false)),
      opener: this.options.opener,
      udp: this.options.udp ?? null,
      counters: this.counters,
      handshakeDone: () => clearTimeout(timer),
    };
    // Bounded: SOCKS messages are at most 513 bytes (RFC 1929), an HTTP head 16 KiB.
    const reader = new HandshakeReader(socket, MAX_HEAD_BYTES);
    try {
      const first = await reader.next((bytes) =>
        bytes.length === 0
          ? { status: "incomplete" as const }
          : { status: "first" as const, byte: bytes[0]! },
      );
      if (first.status !== "first") return;
      if (first.byte === 5) await serveSocks5(socket, reader, context);
      else if (isTokenByte(first.byte)) await serveHttp(socket, reader, context);
      else {
        // No HTTP method starts so: SOCKS4 gets its own "rejected" reply, anything else is closed.
        this.counters.badRequests++;
        refuse(socket, reader, first.byte === 4 ? Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0));
      }
    } catch (error) {
      if (error instanceof HandshakeClosed) {
        if (!timedOut) this.counters.handshakeAbandoned++;
      } else this.log(`proxy connection failed: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  private log(line: string): void {
    (this.options.log ?? ((text: string) => process.stderr.write(`${text}\n`)))(line);
  }
}

/** An HTTP method is a token: printable ASCII. */
function isTokenByte(byte: number): boolean {
  return byte > 0x20 && byte < 0x7f;
}
