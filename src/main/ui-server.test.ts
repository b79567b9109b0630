import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
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
function openBridge(port: number, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      reject(new Error(`refused with ${res.statusCode}`));
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
  writeFileSync(join(tmpdir(), "backhaul-secret.txt"), "secret");
  const backend = new StubBackend();
  let server: UiServer;
  let cookie = "";
  let origin = "";
  const sockets: WebSocket[] = [];

  before(async () => {
    server = await startUiServer({ port: 0, rendererDir: dir, backend });
    origin = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    sockets.forEach((ws) => ws.terminate());
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("binds to loopback and hands out a long random token", () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{40,}$/);
  });

  test("refuses requests without the token", async () => {
    const reply = await get(server.port, "/");
    assert.equal(reply.status, 401);
    assert.match(reply.body, /backhaul ui/);
  });

  test("refuses a wrong token", async () => {
    assert.equal((await get(server.port, "/?token=guess")).status, 401);
  });

  test("the token URL sets an HttpOnly SameSite cookie, which then serves the renderer", async () => {
    const reply = await get(server.port, `/?token=${server.token}`);
    assert.equal(reply.status, 302);
    const setCookie = String(reply.headers["set-cookie"]);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    cookie = setCookie.split(";")[0]!;
    const page = await get(server.port, "/", { Cookie: cookie });
    assert.equal(page.status, 200);
    assert.equal(page.body, "<h1>renderer</h1>");
    const csp = String(page.headers["content-security-policy"]);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${server.port}`));
  });

  test("a rebinding Host header is refused even with the cookie", async () => {
    const reply = await get(server.port, "/", { Cookie: cookie, Host: `evil.example:${server.port}` });
    assert.equal(reply.status, 403);
  });

  test("a cross-site Origin is refused even with the cookie", async () => {
    const reply = await get(server.port, "/", { Cookie: cookie, Origin: "http://evil.example" });
    assert.equal(reply.status, 403);
  });

  test("the old JSON endpoint is gone: the window uses the bridge", async () => {
    assert.equal((await get(server.port, "/api/app-info", { Cookie: cookie })).status, 404);
  });

  test("paths cannot climb out of the renderer folder", async () => {
    const reply = await get(server.port, "/..%2fbackhaul-secret.txt", { Cookie: cookie });
    assert.equal(reply.status, 404);
    assert.doesNotMatch(reply.body, /secret/);
  });

  test("the bridge refuses an upgrade without the cookie, or with a wrong one", async () => {
    await assert.rejects(openBridge(server.port, { Origin: origin }), /refused with 401/);
    await assert.rejects(
      openBridge(server.port, { Origin: origin, Cookie: "backhaul_token=guess" }),
      /refused with 401/,
    );
  });

  test("the bridge refuses a missing or cross-site Origin, and a rebinding Host", async () => {
    await assert.rejects(openBridge(server.port, { Cookie: cookie }), /refused with 403/);
    await assert.rejects(
      openBridge(server.port, { Cookie: cookie, Origin: "http://evil.example" }),
      /refused with 403/,
    );
    await assert.rejects(
      openBridge(server.port, {
        Cookie: cookie,
        Origin: `http://evil.example:${server.port}`,
        Host: `evil.example:${server.port}`,
      }),
      /refused with 403/,
    );
  });

  test("the bridge answers a request by id, through the backend", async () => {
    const ws = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    sockets.push(ws);
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
    const ws = await openBridge(server.port, {
      Cookie: cookie,
      Host: `localhost:${server.port}`,
      Origin: `http://localhost:${server.port}`,
    });
    sockets.push(ws);
    ws.close();
  });

  test("events reach every open window", async () => {
    const first = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    const second = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    sockets.push(first, second);
    const inboxes = [inbox(first), inbox(second)];
    backend.emit({ type: "log", line: "hello windows" });
    for (const messages of inboxes) {
      const message = await messages.next((m) => "event" in m);
      assert.deepEqual(message, { event: { type: "log", line: "hello windows" } });
    }
  });

  test("invalid calls are refused by validation and never reach the backend", async () => {
    const ws = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    sockets.push(ws);
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
    const ws = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    sockets.push(ws);
    const messages = inbox(ws);
    ws.send(JSON.stringify({ id: 4, channel: "session:connect", payload: { targetId: "nowhere" } }));
    assert.deepEqual(await messages.next((m) => "id" in m && m.id === 4), {
      id: 4,
      ok: false,
      error: "no such target in the stub",
    });
  });

  test("malformed and oversized messages close that socket; the server carries on", async () => {
    const malformed = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    const closedMalformed = closeCode(malformed);
    malformed.send("{not json");
    assert.equal(await closedMalformed, 1007);

    const noId = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    const closedNoId = closeCode(noId);
    noId.send(JSON.stringify({ channel: "app:info", payload: null }));
    assert.equal(await closedNoId, 1007);

    const huge = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    const closedHuge = closeCode(huge);
    huge.send(JSON.stringify({ id: 5, channel: "app:info", payload: "x".repeat(100_000) }));
    assert.equal(await closedHuge, 1009);

    const ws = await openBridge(server.port, { Cookie: cookie, Origin: origin });
    sockets.push(ws);
    const messages = inbox(ws);
    ws.send(JSON.stringify({ id: 6, channel: "app:info", payload: null }));
    assert.equal((await messages.next((m) => "id" in m && m.id === 6)) && true, true);
  });
});
