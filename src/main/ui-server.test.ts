import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
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

describe("browser-mode server", () => {
  const dir = mkdtempSync(join(tmpdir(), "backhaul-ui-"));
  writeFileSync(join(dir, "index.html"), "<h1>renderer</h1>");
  writeFileSync(join(tmpdir(), "backhaul-secret.txt"), "secret");
  let server: UiServer;
  let cookie = "";

  before(async () => {
    server = await startUiServer({ port: 0, rendererDir: dir });
  });
  after(async () => {
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
    assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
  });

  test("a rebinding Host header is refused even with the cookie", async () => {
    const reply = await get(server.port, "/", { Cookie: cookie, Host: `evil.example:${server.port}` });
    assert.equal(reply.status, 403);
  });

  test("a cross-site Origin is refused even with the cookie", async () => {
    const reply = await get(server.port, "/api/app-info", { Cookie: cookie, Origin: "http://evil.example" });
    assert.equal(reply.status, 403);
  });

  test("the API answers with app info", async () => {
    const reply = await get(server.port, "/api/app-info", {
      Cookie: cookie,
      Origin: `http://127.0.0.1:${server.port}`,
    });
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as { platform: string }).platform, process.platform);
  });

  test("paths cannot climb out of the renderer folder", async () => {
    const reply = await get(server.port, "/..%2fbackhaul-secret.txt", { Cookie: cookie });
    assert.equal(reply.status, 404);
    assert.doesNotMatch(reply.body, /secret/);
  });
});
