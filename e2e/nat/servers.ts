/**
 * The private network's services, run inside namespace S:
 *   HTTP on port 80: GET /bytes/N returns N deterministic bytes; POST /upload answers the body's
 *   sha256 and length; GET / answers "hello from S".
 *   TCP echo on port 7, half-close aware: after the client's FIN the echo finishes, then FIN.
 *   UDP echo on port 7.
 * Listens on all addresses, both families; then emits {"ready":true} (e2e/netns/child-rpc.ts).
 * Started by start-servers.ts.
 */
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { emit } from "../netns/child-rpc.js";
import { deterministicBytes } from "./content.js";

const cache = new Map<number, Buffer>();

const http = createHttpServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://s.test");
  const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname);
  if (request.method === "GET" && bytes) {
    const size = Number(bytes[1]);
    let body = cache.get(size);
    if (!body) {
      body = deterministicBytes(size);
      cache.set(size, body);
    }
    response.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": size });
    response.end(body);
    return;
  }
  if (request.method === "POST" && url.pathname === "/upload") {
    const hash = createHash("sha256");
    let length = 0;
    request.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    request.on("end", () => {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ sha256: hash.digest("hex"), length }));
    });
    return;
  }
  response.writeHead(200, { "Content-Type": "text/plain" });
  response.end("hello from S\n");
});

const echo = createTcpServer({ allowHalfOpen: true }, (socket) => {
  socket.on("error", () => socket.destroy());
  socket.pipe(socket);
});

const udp = createSocket({ type: "udp6", ipv6Only: false });
udp.on("message", (message, peer) => udp.send(message, peer.port, peer.address));

let pending = 3;
const ready = (): void => {
  if (--pending === 0) emit({ ready: true });
};
http.listen({ port: 80, host: "::", ipv6Only: false }, ready);
echo.listen({ port: 7, host: "::", ipv6Only: false }, ready);
udp.bind(7, "::", ready);
process.on("SIGTERM", () => process.exit(0));
