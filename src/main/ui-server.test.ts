import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { AppEvent, BridgeServerMessage, RequestChannel, RequestOf, ResponseOf } from "../shared/api.js";
import type { AppBackend } from "./app/backend.js";
import { startUiServer, type UiServer } from "./ui-server.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** A stand-in for the AppController: the bridge alone is under test, not the broker. */
class StubBackend implements AppBackend {
  readonly calls: Array<{ channel: RequestChannel; payload: unknown }> = [];
  private readonly listeners = new Set<(event: AppEvent) => void>();

  handle<C extends RequestChannel>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>> {
    this.calls.push({ channel, payload });
    if (channel === "app:info") {
      return Promise.resolve({ version: "9.9.9", platform: "stub", shell: "browser" } as ResponseOf<C>);
    }
    if (channel === "session:connect") return Promise.reject(new Error("no such target in the stub"));
    return Promise.resolve(null as ResponseOf<C>);
  }

  subscribe(listener: (event: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: AppEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Opens the bridge; resolves with the socket once open, or rejects with the refusal. */
function openBridge(
  port: number,
  headers: Record<string, string>,
  protocols: string[] = [],
): Promise<{ ws: WebSocket; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, protocols, { headers });
    let response: IncomingMessage | undefined;
    ws.once("upgrade", (res) => (response = res));
    ws.once("open", () => resolve({ ws, response: response! }));
    ws.once("unexpected-response", (_req, res) => {
      const setCookie = res.headers["set-cookie"];
      reject(
        new Error(`refused with ${res.statusCode}${setCookie ? ` and a cookie: ${String(setCookie)}` : ""}`),
      );
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

/** Collects what the server sends; `next` waits for the first message matching `match`. */
function inbox(ws: WebSocket): {
  next(match: (m: BridgeServerMessage) => boolean): Promise<BridgeServerMessage>;
} {
  const received: BridgeServerMessage[] = [];
  const waiting: Array<{
    match: (m: BridgeServerMessage) => boolean;
    resolve: (m: BridgeServerMessage) => void;
  }> = [];
  ws.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString()) as BridgeServerMessage;
    const index = waiting.findIndex((w) => w.match(message));
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message);
    else received.push(message);
  });
  return {
    next: (match) =>
      new Promise((resolve, reject) => {
        const index = received.findIndex(match);
        if (index >= 0) return resolve(received.splice(index, 1)[0]!);
        const timer = setTimeout(() => reject(new Error("no such message within 5 s")), 5_000);
        waiting.push({
          match,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      }),
  };
}

function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once("close", (code) => resolve(code)));
}

describe("browser-mode server", () => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-ui-"));
  writeFileSync(join(dir, "index.html"), "<h1>renderer</h1>");
  writeFileSync(join(dir, "app.js"), "console.log('renderer');");
  writeFileSync(join(tmpdir(), "backhaul-secret.txt"), "secret");
  const backend = new StubBackend();
  let server: UiServer;
  let origin = "";
  /** What the page offers: the wire format, then its token. */
  let protocols: string[] = [];
  const sockets: WebSocket[] = [];
  /** Every HTTP answer the tests saw: none may set a cookie. */
  const replies: Reply[] = [];
  const fetch = async (path: string, headers: Record<string, string> = {}) => {
    const reply = await get(server.port, path, headers);
    replies.push(reply);
    return reply;
  };
  /** Opens an authorised bridge socket that the suite closes at the end. */
  const bridge = async (headers: Record<string, string> = { Origin: origin }) => {
    const { ws } = await openBridge(server.port, headers, protocols);
    sockets.push(ws);
    return ws;
  };

  before(async () => {
    server = await startUiServer({ port: 0, rendererDir: dir, backend });
    origin = `http://127.0.0.1:${server.port}`;
    protocols = ["backhaul.v1", `backhaul.token.${server.token}`];
  });
  after(async () => {
    sockets.forEach((ws) => ws.terminate());
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("binds to loopback and hands out a long random token in the URL's fragment", () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{40,}$/);
    assert.equal(server.url, `http://127.0.0.1:${server.port}/#token=${server.token}`);
    assert.match(server.token, /^[A-Za-z0-9_-]+$/, "base64url: a valid subprotocol token");
  });

  test("a token that cannot travel as a subprotocol is refused at start", async () => {
    await assert.rejects(
      startUiServer({ port: 0, rendererDir: dir, backend, token: "a+b/c=d e".repeat(4) }),
      /base64url/,
    );
  });

  test("the page and its assets are served without a token, with the security headers", async () => {
    for (const [path, body, type] of [
      ["/", "<h1>renderer</h1>", /^text\/html/],
      ["/index.html", "<h1>renderer</h1>", /^text\/html/],
      ["/app.js", "console.log('renderer');", /^text\/javascript/],
    ] as const) {
      const page = await fetch(path);
      assert.equal(page.status, 200, path);
      assert.equal(page.body, body);
      assert.match(String(page.headers["content-type"]), type);
      const csp = String(page.headers["content-security-policy"]);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${server.port}`));
      assert.equal(page.headers["x-content-type-options"], "nosniff");
      assert.equal(page.headers["cache-control"], "no-store");
    }
  });

  test("the old ?token= URL is answered 400, pointing at the URL printed now, right token or not", async () => {
    for (const token of [server.token, "guess"]) {
      const reply = await fetch(`/?token=${token}`);
      assert.equal(reply.status, 400);
      assert.match(reply.body, /backhaul ui/);
      assert.match(reply.body, /#token=/);
      assert.equal(reply.headers.location, undefined, "no redirect");
      assert.equal(reply.headers["x-content-type-options"], "nosniff");
    }
  });

  test("a rebinding Host header is refused", async () => {
    const reply = await fetch("/", { Host: `evil.example:${server.port}` });
    assert.equal(reply.status, 403);
  });

  test("a cross-site Origin is refused", async () => {
    const reply = await fetch("/", { Origin: "http://evil.example" });
    assert.equal(reply.status, 403);
  });

  test("the old JSON endpoint is gone: the window uses the bridge", async () => {
    assert.equal((await fetch("/api/app-info")).status, 404);
  });

  test("paths cannot climb out of the renderer folder", async () => {
    const reply = await fetch("/..%2fbackhaul-secret.txt");
    assert.equal(reply.status, 404);
    assert.doesNotMatch(reply.body, /secret/);
  });

  test("the bridge refuses an upgrade without the token protocol, or with a wrong one", async () => {
    await assert.rejects(openBridge(server.port, { Origin: origin }), /refused with 401$/);
    await assert.rejects(openBridge(server.port, { Origin: origin }, ["backhaul.v1"]), /refused with 401$/);
    await assert.rejects(
      openBridge(server.port, { Origin: origin }, ["backhaul.v1", "backhaul.token.guess"]),
      /refused with 401$/,
    );
    await assert.rejects(
      openBridge(server.port, { Origin: origin }, ["backhaul.v1", `backhaul.token.${server.token}x`]),
      /refused with 401$/,
    );
    await assert.rejects(
      openBridge(server.port, { Origin: origin }, ["backhaul.v1", `backhaul.token.${server.token.slice(1)}`]),
      /refused with 401$/,
    );
    // The token alone is not a protocol: it must come under its prefix.
    await assert.rejects(
      openBridge(server.port, { Origin: origin }, ["backhaul.v1", server.token]),
      /refused with 401$/,
    );
  });

  test("a cookie is no way in: the old cookie with the right token is ignored", async () => {
    await assert.rejects(
      openBridge(server.port, { Origin: origin, Cookie: `backhaul_token=${server.token}` }, ["backhaul.v1"]),
      /refused with 401$/,
    );
  });

  test("the bridge needs backhaul.v1 offered next to the token", async () => {
    await assert.rejects(
      openBridge(server.port, { Origin: origin }, [`backhaul.token.${server.token}`]),
      /refused with 400$/,
    );
  });

  test("the bridge refuses a right token with a missing or cross-site Origin, or a rebinding Host", async () => {
    await assert.rejects(openBridge(server.port, {}, protocols), /refused with 403$/);
    await assert.rejects(
      openBridge(server.port, { Origin: "http://evil.example" }, protocols),
      /refused with 403$/,
    );
    await assert.rejects(
      openBridge(server.port, { Origin: `http://127.0.0.1:${server.port + 1}` }, protocols),
      /refused with 403$/,
    );
    await assert.rejects(
      openBridge(
        server.port,
        { Origin: `http://evil.example:${server.port}`, Host: `evil.example:${server.port}` },
        protocols,
      ),
      /refused with 403$/,
    );
    await assert.rejects(
      openBridge(server.port, { Origin: origin, Host: `evil.example:${server.port}` }, protocols),
      /refused with 403$/,
    );
  });

  test("the accepted protocol is backhaul.v1: the token is never echoed back", async () => {
    for (const offer of [protocols, [...protocols].reverse()]) {
      const { ws, response } = await openBridge(server.port, { Origin: origin }, offer);
      sockets.push(ws);
      assert.equal(ws.protocol, "backhaul.v1");
      assert.equal(response.headers["sec-websocket-protocol"], "backhaul.v1");
      assert.doesNotMatch(JSON.stringify(response.headers), new RegExp(server.token));
      assert.equal(response.headers["set-cookie"], undefined);
      ws.close();
    }
  });

  test("the bridge answers a request by id, through the backend", async () => {
    const ws = await bridge();
    const messages = inbox(ws);
    ws.send(JSON.stringify({ id: 7, channel: "app:info", payload: null }));
    const reply = await messages.next((m) => "id" in m && m.id === 7);
    assert.deepEqual(reply, {
      id: 7,
      ok: true,
      result: { version: "9.9.9", platform: "stub", shell: "browser" },
    });
  });

  test("the localhost name works too, with its own Origin", async () => {
    const ws = await bridge({ Host: `localhost:${server.port}`, Origin: `http://localhost:${server.port}` });
    ws.close();
  });

  test("events reach every open window", async () => {
    const first = await bridge();
    const second = await bridge();
    const inboxes = [inbox(first), inbox(second)];
    backend.emit({ type: "log", line: "hello windows" });
    for (const messages of inboxes) {
      const message = await messages.next((m) => "event" in m);
      assert.deepEqual(message, { event: { type: "log", line: "hello windows" } });
    }
  });

  test("invalid calls are refused by validation and never reach the backend", async () => {
    const ws = await bridge();
    const messages = inbox(ws);
    const before = backend.calls.length;
    ws.send(JSON.stringify({ id: 1, channel: "session:connect", payload: { targetId: "x", extra: true } }));
    ws.send(JSON.stringify({ id: 2, channel: "shell:exec", payload: "rm -rf /" }));
    ws.send(JSON.stringify({ id: 3, channel: "diagnose:run", payload: { host: "a b", port: 80 } }));
    const replies = await Promise.all([1, 2, 3].map((id) => messages.next((m) => "id" in m && m.id === id)));
    for (const reply of replies) assert.equal((reply as { ok: boolean }).ok, false);
    assert.match((replies[0] as { error: string }).error, /unknown field extra/);
    assert.match((replies[1] as { error: string }).error, /unknown channel/);
    assert.match((replies[2] as { error: string }).error, /host must be/);
    assert.equal(backend.calls.length, before);
  });

  test("a backend failure is an error reply, not a dropped socket", async () => {
    const ws = await bridge();
    const messages = inbox(ws);
    ws.send(JSON.stringify({ id: 4, channel: "session:connect", payload: { targetId: "nowhere" } }));
    assert.deepEqual(await messages.next((m) => "id" in m && m.id === 4), {
      id: 4,
      ok: false,
      error: "no such target in the stub",
    });
  });

  test("malformed and oversized messages close that socket; the server carries on", async () => {
    const malformed = await bridge();
    const closedMalformed = closeCode(malformed);
    malformed.send("{not json");
    assert.equal(await closedMalformed, 1007);

    const noId = await bridge();
    const closedNoId = closeCode(noId);
    noId.send(JSON.stringify({ channel: "app:info", payload: null }));
    assert.equal(await closedNoId, 1007);

    const huge = await bridge();
    const closedHuge = closeCode(huge);
    huge.send(JSON.stringify({ id: 5, channel: "app:info", payload: "x".repeat(100_000) }));
    assert.equal(await closedHuge, 1009);

    const ws = await bridge();
    const messages = inbox(ws);
    ws.send(JSON.stringify({ id: 6, channel: "app:info", payload: null }));
    assert.equal((await messages.next((m) => "id" in m && m.id === 6)) && true, true);
  });

  test("no answer ever set a cookie", () => {
    assert.ok(replies.length >= 9, `the suite saw its answers (${replies.length})`);
    for (const reply of replies) assert.equal(reply.headers["set-cookie"], undefined);
  });
});

describe("browser-mode server under a flood of connections that never authenticate", () => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-ui-flood-"));
  writeFileSync(join(dir, "index.html"), "<h1>renderer</h1>");
  const backend = new StubBackend();
  let server: UiServer;
  const raw: Socket[] = [];
  /** A TCP connection that has sent the start of a request and then nothing (slowloris). */
  const stalled = async (): Promise<Socket> => {
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => undefined);
    raw.push(socket);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
    return socket;
  };
  /** Resolves with what the server sent before closing, or rejects after `ms`. */
  const closedWithin = (socket: Socket, ms: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString());
      });
    });

  before(async () => {
    server = await startUiServer({ port: 0, rendererDir: dir, backend });
  });
  after(async () => {
    raw.forEach((socket) => socket.destroy());
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("past 32 connections without the token the next is refused, while an authorised window keeps working", async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    const { ws } = await openBridge(server.port, { Origin: origin }, [
      "backhaul.v1",
      `backhaul.token.${server.token}`,
    ]);
    const messages = inbox(ws);
    const flood = await Promise.all(Array.from({ length: 32 }, () => stalled()));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server has seen all 32

    const extra = connect(server.port, "127.0.0.1");
    extra.on("error", () => undefined);
    raw.push(extra);
    const answer = closedWithin(extra, 3_000);
    extra.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    assert.equal(await answer, "", "the 33rd is closed without an answer");

    ws.send(JSON.stringify({ id: 1, channel: "app:info", payload: null }));
    const reply = await messages.next((m) => "id" in m && m.id === 1);
    assert.equal((reply as { ok: boolean }).ok, true, "the authorised window is still served");

    flood.forEach((socket) => socket.destroy());
    await new Promise((resolve) => setTimeout(resolve, 200));
    const page = await get(server.port, "/", { Connection: "close" });
    assert.equal(page.status, 200, "once the flood is gone, pages load again");
    ws.terminate();
  });

  test("a connection that does not finish its request headers is closed within 8 s", async () => {
    const socket = await stalled();
    const started = Date.now();
    const answer = await closedWithin(socket, 8_000);
    assert.match(answer, /^HTTP\/1\.1 408/, "answered 408 Request Timeout");
    assert.ok(Date.now() - started < 8_000);
  });
});
