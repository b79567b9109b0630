import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bodyLength,
  MAX_HEAD_BYTES,
  originHead,
  parseAbsoluteTarget,
  parseAuthority,
  parseHead,
  statusResponse,
} from "./http-head.js";

const head = (text: string): Buffer => Buffer.from(text, "latin1");

test("a request head is parsed up to the empty line; the rest stays for the body", () => {
  const result = parseHead(
    head("CONNECT web.test:443 HTTP/1.1\r\nHost: web.test:443\r\nX-A:  b \r\n\r\nBODY"),
  );
  assert.equal(result.status, "ok");
  if (result.status !== "ok") return;
  assert.equal(result.value.method, "CONNECT");
  assert.equal(result.value.target, "web.test:443");
  assert.deepEqual(result.value.headers, [
    ["Host", "web.test:443"],
    ["X-A", "b"],
  ]);
  assert.equal(
    result.length,
    head("CONNECT web.test:443 HTTP/1.1\r\nHost: web.test:443\r\nX-A:  b \r\n\r\n").length,
  );
});

test("incomplete heads wait; heads over 16 KiB are refused whether or not they end", () => {
  assert.equal(parseHead(head("GET http://a/ HTTP/1.1\r\nHost: a\r\n")).status, "incomplete");
  assert.equal(
    parseHead(head(`GET http://a/ HTTP/1.1\r\nX: ${"a".repeat(MAX_HEAD_BYTES)}`)).status,
    "too-large",
  );
  assert.equal(
    parseHead(head(`GET http://a/ HTTP/1.1\r\nX: ${"a".repeat(MAX_HEAD_BYTES)}\r\n\r\n`)).status,
    "too-large",
  );
});

test("malformed request lines, versions and header lines are invalid", () => {
  for (const bad of [
    "GET\r\n\r\n",
    "GET http://a/ HTTP/2.0\r\n\r\n",
    "G(T http://a/ HTTP/1.1\r\n\r\n",
    "GET  HTTP/1.1\r\n\r\n",
    "GET http://a/ HTTP/1.1\r\nno colon here\r\n\r\n",
    "GET http://a/ HTTP/1.1\r\n: empty name\r\n\r\n",
  ]) {
    assert.equal(parseHead(head(bad)).status, "invalid", bad);
  }
});

test("authorities: names, IPv4, bracketed IPv6; ports checked", () => {
  assert.deepEqual(parseAuthority("web.test:443", null), { kind: "name", name: "web.test", port: 443 });
  assert.deepEqual(parseAuthority("198.18.0.1:80", null), {
    kind: "address",
    address: "198.18.0.1",
    port: 80,
  });
  assert.deepEqual(parseAuthority("[2001:db8::1]:8080", null), {
    kind: "address",
    address: "2001:db8::1",
    port: 8080,
  });
  assert.deepEqual(parseAuthority("web.test", 80), { kind: "name", name: "web.test", port: 80 });
  for (const bad of ["web.test", "web.test:0", "web.test:65536", "[zz]:80", "a b:80", "user@web.test:80"]) {
    assert.equal(parseAuthority(bad, null), null, bad);
  }
});

test("absolute-form targets: http only, path kept, no userinfo", () => {
  assert.deepEqual(parseAbsoluteTarget("http://web.test:8080/a?b=1"), {
    target: { kind: "name", name: "web.test", port: 8080 },
    authority: "web.test:8080",
    path: "/a?b=1",
  });
  assert.equal(parseAbsoluteTarget("http://web.test")?.path, "/");
  assert.equal(parseAbsoluteTarget("https://web.test/"), null);
  assert.equal(parseAbsoluteTarget("/relative"), null);
  assert.equal(parseAbsoluteTarget("http://u:p@web.test/"), null);
});

test("the origin sees origin-form, no proxy credentials or hop-by-hop fields, and Connection: close", () => {
  const parsed = parseHead(
    head(
      "GET http://web.test/x HTTP/1.1\r\nHost: web.test\r\nProxy-Authorization: Basic dTpw\r\n" +
        "Proxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n",
    ),
  );
  assert.equal(parsed.status, "ok");
  if (parsed.status !== "ok") return;
  const absolute = parseAbsoluteTarget(parsed.value.target)!;
  assert.equal(
    originHead(parsed.value, absolute).toString("latin1"),
    "GET /x HTTP/1.1\r\nHost: web.test\r\nAccept: */*\r\nConnection: close\r\n\r\n",
  );
});

test("status responses are complete HTTP/1.1 messages that close", () => {
  const text = statusResponse(407, "Proxy Authentication Required", [
    'Proxy-Authenticate: Basic realm="x"',
  ]).toString();
  assert.match(
    text,
    /^HTTP\/1\.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\n/,
  );
  assert.match(text, /Connection: close\r\n\r\n407 Proxy Authentication Required\n$/);
});

test("body length: Content-Length, none, chunked (unbounded) and malformed or contradictory (null)", () => {
  const of = (fields: string): number | undefined | null => {
    const parsed = parseHead(head(`POST http://a/ HTTP/1.1\r\n${fields}\r\n`));
    assert.equal(parsed.status, "ok");
    return parsed.status === "ok" ? bodyLength(parsed.value) : null;
  };
  assert.equal(of("Content-Length: 12\r\n"), 12);
  assert.equal(of("Content-Length: 12, 12\r\n"), 12);
  assert.equal(of(""), 0);
  assert.equal(of("Transfer-Encoding: chunked\r\n"), undefined);
  assert.equal(of("Content-Length: 12\r\nContent-Length: 13\r\n"), null);
  assert.equal(of("Content-Length: -1\r\n"), null);
  assert.equal(of("Content-Length: 1e3\r\n"), null);
});
