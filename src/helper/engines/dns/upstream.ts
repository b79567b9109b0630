/**
 * One exchange with one resolver of this computer: a query out, the matching response back, over
 * UDP (a fresh connected socket, so the kernel filters other senders and reports ICMP
 * unreachable at once) or TCP (one connection per exchange, RFC 7766 framing).
 */
import { createSocket } from "node:dgram";
import { connect, isIPv6 } from "node:net";
import { Flag, HEADER_BYTES } from "./wire.js";

export interface Upstream {
  /** An IP address, IPv6 possibly with a zone ("fe80::1%en0"). */
  address: string;
  port: number;
}

export type UpstreamProtocol = "udp" | "tcp";

/** "198.19.0.53:53 udp", "[2001:db8::53]:53 tcp": how the table names a resolver. */
export function describeUpstream(upstream: Upstream, protocol: UpstreamProtocol): string {
  const host = isIPv6(upstream.address) ? `[${upstream.address}]` : upstream.address;
  return `${host}:${upstream.port} ${protocol}`;
}

export type UpstreamFailure = "timeout" | "unreachable" | "closed" | "bad-response";

export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    readonly failure: UpstreamFailure,
    readonly resolver: string,
    detail: string,
  ) {
    super(`${resolver}: ${detail}`);
  }
}

/**
 * Sends `query` and resolves with the first response carrying its id; rejects with an
 * UpstreamError. Injectable so that tests run without sockets.
 */
export type UpstreamExchange = (
  query: Buffer,
  upstream: Upstream,
  protocol: UpstreamProtocol,
  timeoutMs: number,
) => Promise<Buffer>;

export const networkExchange: UpstreamExchange = (query, upstream, protocol, timeoutMs) =>
  protocol === "udp" ? udpExchange(query, upstream, timeoutMs) : tcpExchange(query, upstream, timeoutMs);

function isResponseTo(message: Buffer, id: number): boolean {
  return (
    message.length >= HEADER_BYTES &&
    message.readUInt16BE(0) === id &&
    (message.readUInt16BE(2) & Flag.QR) !== 0
  );
}

type Settle = (error: UpstreamError | undefined, response?: Buffer) => void;

/**
 * What both transports share: the first outcome wins (a response, an UpstreamError, or the
 * timeout). `start` opens the socket and wires its events to `settle`; it returns how to release
 * the socket, which `settle` does before anything else.
 */
function exchange(
  resolver: string,
  timeoutMs: number,
  start: (settle: Settle) => () => void,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const settle: Settle = (error, response) => {
      clearTimeout(timer);
      release();
      if (error) reject(error);
      else if (response) resolve(response);
    };
    const timer = setTimeout(
      () => settle(new UpstreamError("timeout", resolver, `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const release = start(settle);
  });
}

function unreachable(resolver: string, error: NodeJS.ErrnoException): UpstreamError {
  return new UpstreamError("unreachable", resolver, error.code ?? error.message);
}

function udpExchange(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  const resolver = describeUpstream(upstream, "udp");
  const id = query.readUInt16BE(0);
  return exchange(resolver, timeoutMs, (settle) => {
    const socket = createSocket(isIPv6(upstream.address) ? "udp6" : "udp4");
    socket.on("message", (message) => {
      // A stray or late datagram with another id is ignored, as a stub resolver does.
      if (isResponseTo(message, id)) settle(undefined, message);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => settle(unreachable(resolver, error)));
    socket.connect(upstream.port, upstream.address, () => socket.send(query));
    return () => {
      socket.removeAllListeners("message");
      socket.on("error", () => undefined);
      socket.close();
    };
  });
}

/** Responses over TCP carry a 2-byte length; 65,535 is therefore the most there is to read. */
function tcpExchange(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  const resolver = describeUpstream(upstream, "tcp");
  const id = query.readUInt16BE(0);
  return exchange(resolver, timeoutMs, (settle) => {
    const socket = connect({ host: upstream.address, port: upstream.port });
    const chunks: Buffer[] = [];
    let received = 0;
    socket.setNoDelay(true);
    socket.on("connect", () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(query.length);
      socket.write(Buffer.concat([prefix, query]));
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 2) return;
      const all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      chunks.splice(0, chunks.length, all);
      const length = all.readUInt16BE(0);
      if (received < 2 + length) return;
      const message = all.subarray(2, 2 + length);
      if (isResponseTo(message, id)) settle(undefined, Buffer.from(message));
      else settle(new UpstreamError("bad-response", resolver, "the response does not match the query id"));
    });
    socket.on("error", (error: NodeJS.ErrnoException) => settle(unreachable(resolver, error)));
    socket.on("close", () =>
      settle(new UpstreamError("closed", resolver, "the connection closed before a full answer")),
    );
    return () => {
      socket.removeAllListeners("data");
      socket.removeAllListeners("close");
      socket.on("error", () => undefined);
      socket.destroy();
    };
  });
}
