/**
 * Browser mode: serves the renderer on 127.0.0.1 to one user. Anyone on this computer can reach
 * a loopback port, so every request needs the random token (passed once in the URL, then kept
 * in an HttpOnly SameSite=Strict cookie), and Host and Origin must name this server: that
 * stops DNS rebinding and cross-site requests from web pages the user has open.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import type { AddressInfo } from "node:net";
import type { AppInfo } from "../shared/api.js";
import { VERSION } from "../shared/version.js";

export interface UiServerOptions {
  /** 0 picks a free port. */
  port: number;
  rendererDir: string;
  /** Fixed only in tests; a fresh 256-bit token otherwise. */
  token?: string;
}

export interface UiServer {
  readonly port: number;
  readonly token: string;
  /** The URL to open: it carries the token once. */
  readonly url: string;
  close(): Promise<void>;
}

const COOKIE = "backhaul_token";
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".map": "application/json",
};
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = options.token ?? randomBytes(32).toString("base64url");
  let port = options.port;
  const server = createServer((request, response) => {
    handle(request, response, { token, port, rendererDir: options.rendererDir }).catch(() => {
      if (!response.headersSent) send(response, 500, "internal error");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
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

async function handle(request: IncomingMessage, response: ServerResponse, context: Context): Promise<void> {
  const allowedHosts = [`127.0.0.1:${context.port}`, `localhost:${context.port}`];
  if (!allowedHosts.includes(request.headers.host ?? "")) {
    return send(response, 403, "wrong Host header: open the URL that `backhaul ui` printed");
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedHosts.some((host) => origin === `http://${host}`)) {
    return send(response, 403, "cross-origin requests are refused");
  }
  const url = new URL(request.url ?? "/", `http://${allowedHosts[0]}`);
  const offered = url.searchParams.get("token");
  if (offered !== null) {
    if (!tokensEqual(offered, context.token))
      return send(response, 401, "wrong token: open the URL that `backhaul ui` printed");
    response.writeHead(302, {
      ...SECURITY_HEADERS,
      "Set-Cookie": `${COOKIE}=${context.token}; HttpOnly; SameSite=Strict; Path=/`,
      Location: url.pathname,
    });
    response.end();
    return;
  }
  if (!tokensEqual(cookieValue(request.headers.cookie, COOKIE) ?? "", context.token)) {
    return send(response, 401, "not authorised: open the URL that `backhaul ui` printed");
  }
  if (request.method !== "GET") return send(response, 405, "method not allowed");
  if (url.pathname === "/api/app-info") {
    const info: AppInfo = { version: VERSION, platform: process.platform };
    return send(response, 200, JSON.stringify(info), "application/json");
  }
  const relative = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname.slice(1));
  const path = normalize(join(context.rendererDir, relative));
  if (!path.startsWith(context.rendererDir + sep)) return send(response, 404, "not found");
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    return send(response, 404, "not found");
  }
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    "Content-Type": CONTENT_TYPES[extname(path)] ?? "application/octet-stream",
  });
  response.end(body);
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  type = "text/plain; charset=utf-8",
): void {
  response.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type });
  response.end(body);
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}
