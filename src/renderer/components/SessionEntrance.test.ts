import assert from "node:assert/strict";
import { test } from "node:test";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { PROXY_ENV_HINT, type SessionView } from "../../shared/api.js";
import { SessionEntrance } from "./SessionEntrance.js";

// A .test.ts (what the test runner collects), so the element is built without JSX.
const render = (entrance: SessionView["entrance"]): string =>
  renderToStaticMarkup(createElement(SessionEntrance, { entrance }));

test("the session view names its entrance; only the proxy's carries the proxy.env hint", () => {
  const proxy = render("proxy");
  assert.match(proxy, /data-entrance="proxy"/);
  assert.match(proxy, /Proxy entrance/);
  assert.ok(proxy.includes(`<code data-testid="proxy-env-hint">${PROXY_ENV_HINT}</code>`), proxy);
  assert.equal(PROXY_ENV_HINT, ". ~/.config/backhaul/proxy.env");

  const tun = render("tun");
  assert.match(tun, /TUN entrance: every program on the remote/);
  assert.ok(!tun.includes("proxy.env"), tun);

  const unknown = render(null);
  assert.ok(!unknown.includes("data-entrance"), unknown);
});
