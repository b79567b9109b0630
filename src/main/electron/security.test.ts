import assert from "node:assert/strict";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  externalLinkFor,
  isTrustedSender,
  policyHeadersFor,
  RENDERER_CSP,
  rendererUrl,
  withContentSecurityPolicy,
} from "./security.js";

const INDEX = "/opt/Backhaul/resources/app.asar/dist/renderer/index.html";
const EXPECTED = rendererUrl(INDEX);

test("the renderer URL is the file:// URL of index.html", () => {
  assert.equal(EXPECTED, "file:///opt/Backhaul/resources/app.asar/dist/renderer/index.html");
  assert.equal(
    rendererUrl("/home/a b/dist/renderer/index.html"),
    "file:///home/a%20b/dist/renderer/index.html",
  );
});

test("IPC is answered only for the top frame of the app's own page", () => {
  assert.equal(isTrustedSender({ url: EXPECTED, parent: null }, EXPECTED, "linux"), true);
  assert.equal(isTrustedSender({ url: `${EXPECTED}#/settings`, parent: null }, EXPECTED, "linux"), true);
  assert.equal(isTrustedSender({ url: `${EXPECTED}?view=dns`, parent: null }, EXPECTED, "linux"), true);

  const refused: [string, { url: string; parent: unknown } | null | undefined][] = [
    ["a destroyed frame", null],
    ["no frame", undefined],
    ["an iframe of the page", { url: EXPECTED, parent: {} }],
    ["another local file", { url: "file:///tmp/evil.html", parent: null }],
    ["a sibling file", { url: EXPECTED.replace("index.html", "other.html"), parent: null }],
    ["a web page", { url: "https://example.com/dist/renderer/index.html", parent: null }],
    [
      "a file URL on a host",
      { url: "file://server/opt/Backhaul/resources/app.asar/dist/renderer/index.html", parent: null },
    ],
    ["the same path on another scheme", { url: EXPECTED.replace("file:", "app:"), parent: null }],
    ["no URL", { url: "", parent: null }],
    ["about:blank", { url: "about:blank", parent: null }],
    ["a different case on Linux", { url: EXPECTED.replace("Backhaul", "backhaul"), parent: null }],
  ];
  for (const [what, frame] of refused) assert.equal(isTrustedSender(frame, EXPECTED, "linux"), false, what);

  // A path that walks out and back in is normalised by URL parsing to the same page.
  const dotted = EXPECTED.replace("/dist/renderer/", "/dist/main/../renderer/");
  assert.equal(isTrustedSender({ url: dotted, parent: null }, EXPECTED, "linux"), true);
});

test("on Windows the path compares without regard to case", () => {
  const expected = pathToFileURL(
    "C:\\Program Files\\Backhaul\\resources\\app.asar\\dist\\renderer\\index.html",
    {
      windows: true,
    },
  ).href;
  assert.equal(expected, "file:///C:/Program%20Files/Backhaul/resources/app.asar/dist/renderer/index.html");
  const lower = expected.replace("file:///C:", "file:///c:");
  assert.equal(isTrustedSender({ url: lower, parent: null }, expected, "win32"), true);
  assert.equal(isTrustedSender({ url: lower, parent: null }, expected, "linux"), false);
});

test("documents get the strict policy in place of theirs; other responses are left alone", () => {
  assert.match(RENDERER_CSP, /default-src 'none'/);
  assert.match(RENDERER_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(RENDERER_CSP, /unsafe-eval/);
  assert.deepEqual(withContentSecurityPolicy({ "content-security-policy": "default-src *", "X-A": "1" }), {
    "X-A": ["1"],
    "Content-Security-Policy": [RENDERER_CSP],
  });
  assert.deepEqual(withContentSecurityPolicy(undefined), { "Content-Security-Policy": [RENDERER_CSP] });

  assert.deepEqual(policyHeadersFor({ url: EXPECTED, resourceType: "mainFrame" }), {
    "Content-Security-Policy": [RENDERER_CSP],
  });
  assert.ok(policyHeadersFor({ url: "https://example.com/", resourceType: "subFrame", responseHeaders: {} }));
  assert.equal(policyHeadersFor({ url: `${EXPECTED}/../assets/a.js`, resourceType: "script" }), undefined);
  assert.equal(
    policyHeadersFor({ url: "devtools://devtools/bundled/x.html", resourceType: "mainFrame" }),
    undefined,
  );
});

test("only plain https links leave for the user's browser", () => {
  assert.equal(externalLinkFor("https://github.com/codespaces"), "https://github.com/codespaces");
  for (const url of [
    "http://example.com/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "smb://server/share",
    "https://user:pass@example.com/",
    "not a url",
  ])
    assert.equal(externalLinkFor(url), null, url);
});
