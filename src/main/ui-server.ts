/**
 * Browser mode: serves the renderer on 127.0.0.1 to one user, and carries the window's API over
 * one WebSocket (/api/ws) to the same backend the desktop app uses. Anyone on this computer can
 * reach a loopback port, so the bridge needs the random token, and every request and upgrade
 * must name this server in Host and Origin: that stops DNS rebinding and cross-site requests from
 * web pages the user has open.
 *
 * The token travels in the URL's fragment (`/#token=…`), which browsers never send to a server;
 * the page keeps it in sessionStorage (scoped to this origin, so to this port) and offers it as a
 * WebSocket subprotocol, `backhaul.token.<token>`, next to `backhaul.v1`, the one the server
 * accepts. It is never put in a cookie: cookies are not scoped by port, so a tab left open on an
 * earlier run's port would hand the live token to whoever binds that port next. The page itself
 * (index.html and its assets) is public code and is served without the token.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import type { AddressInfo, Socket } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import type { AppEvent, BridgeServerMessage } from "../shared/api.js";
import {
  BRIDGE_PATH,
  BRIDGE_PROTOCOL,
  TOKEN_FRAGMENT_KEY,
  TOKEN_PATTERN,
  TOKEN_PROTOCOL_PREFIX,
} from "../shared/bridge-protocol.js";
import { parseJsonObject } from "../shared/json-object.js";
import { dispatchRequest, type AppBackend } from "./app/backend.js";

export interface UiServerOptions {
  /** 0 picks a free port. */
  port: number;
  rendererDir: string;
  /** What the window's calls reach; the server does not close it. */
  backend: AppBackend;
  /** Fixed only in tests (base64url or hex: it travels as a subprotocol); a fresh 256-bit token otherwise. */
  token?: string;
}

export interface UiServer {
  readonly port: number;
  readonly token: string;
  /** The URL to open: it carries the token in its fragment, which is never sent to a server. */
  readonly url: string;
  close(): Promise<void>;
}

/** A shorter fixed token would be guessable. */
const MIN_TOKEN_LENGTH = 16;
/** The largest message a window may send; requests are small. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** A window that falls this far behind on events is dropped; it reconnects and takes a snapshot. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/**
 * Connections that have not (yet) become an authorised bridge: page loads and attempts. A browser
 * needs a handful; any local process may open thousands, so beyond this the next is closed at once.
 */
export const MAX_UNAUTHORISED_CONNECTIONS = 32;
/** A request's headers must arrive within this (a silent or trickling connection is answered 408). */
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".map": "application/json",
};

function securityHeaders(port: number): Record<string, string> {
  const sockets = `ws://127.0.0.1:${port} ws://localhost:${port}`;
  return {
    "Content-Security-Policy":
      `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ${sockets}; ` +
      "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
  };
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = options.token ?? randomBytes(32).toString("base64url");
  if (token.length < MIN_TOKEN_LENGTH || !TOKEN_PATTERN.test(token))
    throw new Error("the UI token must be 16 or more base64url characters");
  const context: Context = { token, port: options.port, rendererDir: options.rendererDir };
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // How often Node checks those timeouts; its default of 30 s would let them run 6 times over.
      connectionsCheckingInterval: 1_000,
    },
    (request, response) => {
      handle(request, response, context).catch(() => {
        if (!response.headersSent) send(response, context, 500, "internal error");
      });
    },
  );
  // Counted from accept until an upgrade with the token: only the token's holder is unlimited.
  const unauthorised = new Set<Duplex>();
  server.on("connection", (socket: Socket) => {
    if (unauthorised.size >= MAX_UNAUTHORISED_CONNECTIONS) return void socket.destroy();
    unauthorised.add(socket);
    socket.once("close", () => unauthorised.delete(socket));
  });
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // Only reached once upgradeRefusal has checked that both were offered: the token stays out.
    handleProtocols: (protocols) => (protocols.has(BRIDGE_PROTOCOL) ? BRIDGE_PROTOCOL : false),
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const refusal = upgradeRefusal(request, context);
    if (refusal) {
      socket.once("finish", () => socket.destroy());
      socket.end(
        `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? "Forbidden"}\r\n` +
          `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(refusal.message)}\r\n\r\n${refusal.message}`,
      );
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      unauthorised.delete(socket);
      serveBridge(ws, options.backend);
    });
  });
  const unsubscribe = options.backend.subscribe((event) => broadcast(sockets, event));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  context.port = (server.address() as AddressInfo).port;
  return {
    port: context.port,
    token,
    url: `http://127.0.0.1:${context.port}/#${TOKEN_FRAGMENT_KEY}=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Context {
  token: string;
  port: number;
  rendererDir: string;
}

function allowedHosts(context: Context): string[] {
  return [`127.0.0.1:${context.port}`, `localhost:${context.port}`];
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden" };

/** Why an upgrade to the bridge is refused, or null. Unlike a page load, the Origin is required. */
function upgradeRefusal(
  request: IncomingMessage,
  context: Context,
): { status: number; message: string } | null {
  const host = request.headers.host ?? "";
  if (!allowedHosts(context).includes(host)) return { status: 403, message: "wrong Host header" };
  if (request.headers.origin !== `http://${host}`)
    return { status: 403, message: "cross-origin or no Origin" };
  const url = new URL(request.url ?? "/", `http://${host}`);
  if (url.pathname !== BRIDGE_PATH) return { status: 403, message: "no such endpoint" };
  const offered = offeredProtocols(request.headers["sec-websocket-protocol"]);
  if (!hasToken(offered, context.token))
    return { status: 401, message: "not authorised: open the URL that `backhaul ui` printed" };
  if (!offered.includes(BRIDGE_PROTOCOL))
    return { status: 400, message: `the bridge speaks the ${BRIDGE_PROTOCOL} subprotocol only` };
  return null;
}

function offeredProtocols(header: string | string[] | undefined): string[] {
  const joined = Array.isArray(header) ? header.join(",") : (header ?? "");
  return joined
    .split(",")
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== "");
}

/** Whether one of the offered subprotocols is `backhaul.token.<token>`; each compared in constant time. */
function hasToken(offered: string[], token: string): boolean {
  let found = false;
  for (const protocol of offered) {
    if (!protocol.startsWith(TOKEN_PROTOCOL_PREFIX)) continue;
    if (tokensEqual(protocol.slice(TOKEN_PROTOCOL_PREFIX.length), token)) found = true;
  }
  return found;
}

/** One window: every request goes through dispatchRequest (validated), and is answered by id. */
function serveBridge(ws: WebSocket, backend: AppBackend): void {
  ws.on("error", () => ws.terminate());
  ws.on("message", (data: RawData, isBinary: boolean) => {
    const message = isBinary ? undefined : parseMessage(rawText(data));
    if (message === undefined) {
      ws.close(1007, "messages are JSON objects with a numeric id");
      return;
    }
    // dispatchRequest throws at once when validation refuses the call: that is a reply too.
    Promise.resolve()
      .then(() => dispatchRequest(backend, message.channel, message.payload))
      .then(
        (result) => reply(ws, { id: message.id, ok: true, result: result ?? null }),
        (error: unknown) =>
          reply(ws, {
            id: message.id,
            ok: false,
            error: error instanceof Error ? error.message : String(error),
          }),
      );
  });
}

function parseMessage(text: string): { id: number; channel: unknown; payload: unknown } | undefined {
  const value = parseJsonObject(text);
  if (value === undefined) return undefined;
  const { id, channel, payload } = value;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) return undefined;
  return { id, channel, payload };
}

function reply(ws: WebSocket, message: BridgeServerMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function broadcast(sockets: WebSocketServer, event: AppEvent): void {
  if (sockets.clients.size === 0) return;
  const text = JSON.stringify({ event } satisfies BridgeServerMessage);
  for (const client of sockets.clients) {
    if (client.readyState !== WebSocket.OPEN) continue;
    if (client.bufferedAmount > MAX_BUFFERED_BYTES) client.terminate();
    else client.send(text);
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

async function handle(request: IncomingMessage, response: ServerResponse, context: Context): Promise<void> {
  const hosts = allowedHosts(context);
  if (!hosts.includes(request.headers.host ?? "")) {
    return send(response, context, 403, "wrong Host header: open the URL that `backhaul ui` printed");
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !hosts.some((host) => origin === `http://${host}`)) {
    return send(response, context, 403, "cross-origin requests are refused");
  }
  const url = new URL(request.url ?? "/", `http://${hosts[0]}`);
  // The old `/?token=` form: a bookmark of it fails loudly rather than opening a page that cannot connect.
  if (url.searchParams.has("token")) {
    return send(
      response,
      context,
      400,
      "this URL form is no longer used: open the URL that `backhaul ui` prints now (http://127.0.0.1:PORT/#token=…)",
    );
  }
  // The page and its assets are public code: only the bridge needs the token.
  if (request.method !== "GET") return send(response, context, 405, "method not allowed");
  let relative: string;
  try {
    relative = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname.slice(1));
  } catch {
    return send(response, context, 404, "not found");
  }
  const path = normalize(join(context.rendererDir, relative));
  if (!path.startsWith(context.rendererDir + sep)) return send(response, context, 404, "not found");
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    return send(response, context, 404, "not found");
  }
  response.writeHead(200, {
    ...securityHeaders(context.port),
    "Content-Type": CONTENT_TYPES[extname(path)] ?? "application/octet-stream",
  });
  response.end(body);
}

function send(response: ServerResponse, context: Context, status: number, body: string): void {
  response.writeHead(status, {
    ...securityHeaders(context.port),
    "Content-Type": "text/plain; charset=utf-8",
  });
  response.end(body);
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
