import assert from "node:assert/strict";
import { test } from "node:test";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import type { RemoteDnsStatus } from "../../shared/remote-dns-status.js";
import { SPLIT_REMOTE_DNS } from "../../shared/test-remote-dns.js";
import { RemoteDnsLine } from "./RemoteDnsLine.js";

// A .test.ts (what the test runner collects), so the element is built without JSX.
const render = (status: RemoteDnsStatus | null): string =>
  renderToStaticMarkup(createElement(RemoteDnsLine, { status }));
const text = (html: string): string => html.replace(/<[^>]+>/g, "").replace(/&#x27;/g, "'");

const SPLIT: RemoteDnsStatus = { ...SPLIT_REMOTE_DNS, viaRemote: 1340 };

test("split DNS over the forwarder: names via this computer and via the remote's resolver", () => {
  const html = render(SPLIT);
  assert.match(html, /data-testid="remote-dns"/);
  assert.match(html, /data-mode="split"/);
  assert.equal(text(html), "Split DNS: 12 via this computer · 1,340 via the remote's resolver");
  assert.match(
    html,
    /title="On the remote: resolv\.conf names Backhaul&#x27;s split forwarder \(native relay\)"/,
  );
  assert.doesNotMatch(html, /remote-dns-unanswered/, "no failure, no warning");
});

test("failures of the remote's own resolver are shown, and only those that happened", () => {
  const html = render({ ...SPLIT, unanswered: 7, overloaded: 2 });
  assert.match(html, /data-testid="remote-dns-unanswered"/);
  assert.match(html, /data-testid="remote-dns-overloaded"/);
  assert.doesNotMatch(html, /remote-dns-refused/);
  assert.equal(
    text(html),
    "Split DNS: 12 via this computer · 1,340 via the remote's resolver · 7 unanswered · 2 overloaded",
  );
});

test("systemd-resolved, all, off, and nothing reported yet", () => {
  assert.match(
    text(render({ mode: "split", setup: "systemd-resolved" })),
    /systemd-resolved on the remote routes names per link/,
  );
  assert.match(
    text(render({ mode: "split", setup: null })),
    /^Split DNS: names under this computer's domains come here/,
  );
  assert.match(
    text(render({ mode: "all", setup: "resolv-conf" })),
    /^All DNS: every name the remote looks up/,
  );
  assert.match(
    text(render({ mode: "off", setup: "none" })),
    /^DNS off: the remote resolves every name itself/,
  );
  assert.equal(render(null), "");
});
