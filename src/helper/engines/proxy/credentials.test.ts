import assert from "node:assert/strict";
import { test } from "node:test";
import { basicMatches, credentialsMatch, newCredentials } from "./credentials.js";

test("credentials are random per session and URL-safe", () => {
  const a = newCredentials();
  const b = newCredentials();
  assert.notEqual(a.username, b.username);
  assert.notEqual(a.password, b.password);
  assert.match(a.username + a.password, /^[A-Za-z0-9_-]+$/);
  assert.ok(a.password.length >= 32);
});

test("only the exact username and password match, of any length", () => {
  const expected = newCredentials();
  const user = Buffer.from(expected.username);
  const password = Buffer.from(expected.password);
  assert.equal(credentialsMatch(expected, user, password), true);
  assert.equal(credentialsMatch(expected, user, Buffer.from(`${expected.password}x`)), false);
  assert.equal(credentialsMatch(expected, user, Buffer.alloc(0)), false);
  assert.equal(credentialsMatch(expected, Buffer.from("root"), password), false);
});

test("Proxy-Authorization Basic: matching, wrong, missing and malformed", () => {
  const expected = newCredentials();
  const good = Buffer.from(`${expected.username}:${expected.password}`).toString("base64");
  assert.equal(basicMatches(expected, `Basic ${good}`), true);
  assert.equal(basicMatches(expected, `basic  ${good}`), true);
  assert.equal(basicMatches(expected, undefined), false);
  assert.equal(basicMatches(expected, `Bearer ${good}`), false);
  assert.equal(basicMatches(expected, `Basic ${Buffer.from("nocolon").toString("base64")}`), false);
  assert.equal(
    basicMatches(expected, `Basic ${Buffer.from(`${expected.username}:x`).toString("base64")}`),
    false,
  );
});
